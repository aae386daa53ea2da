"""Stocktake in the console (issue 19; :mod:`fleet.stocktake`): an owner or a fleet admin
opens a count for a store (every product or some categories), which reaches the store's
terminals as a ``count_open`` job; supervisors count there, blind; the review shows each
product counted against the ledger at its moment of counting; closing ends the counting
(``count_close`` jobs) and posting the differences is the approval. Managers look."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet import stocktake
from fleet.central import store_currencies
from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.sales_now import product_categories, product_names
from fleet.console.web import Context, action, page
from fleet.job_commands import JobError, send_job
from fleet.models import ProductCost, Stocktake, Terminal
from terminal.core import signed_config as sc
from terminal.core.inventory import quantity_text
from terminal.core.margins import cost_of
from terminal.core.stocktake import job_text

COUNT_JOB_EXPIRES = timedelta(days=7)  # a terminal offline longer is told by hand


def _count(ctx: Context, count_id: str) -> Stocktake:
    found = stocktake.find(ctx.db, stocktake.number(count_id) or 0)
    if found is None or not ctx.viewer.sees_store(found.store):
        raise NotFound(count_id)
    return found


def _scope(ctx: Context, count: Stocktake) -> set[str] | None:
    """The SKUs of the count's categories (None: every product)."""
    if not count.categories:
        return None
    wanted = set(count.categories.split(","))
    return {sku for sku, category in product_categories(ctx.db).items() if category in wanted}


def _tell_terminals(ctx: Context, count: Stocktake, kind: str) -> list[str]:
    """Send the count's job to each of its store's terminals; what could not be sent."""
    operations = ctx.console.operations
    if operations is None:
        return [ctx.translations().gettext("No broker: the terminals were not told")]
    text = (
        job_text(stocktake.label(count.id), count.categories.split(",") if count.categories else [])
        if kind == "count_open"
        else stocktake.label(count.id)
    )
    problems = []
    terminals = Terminal.select(Terminal.id).where(Terminal.store == count.store).bind(ctx.db)
    for (tid,) in terminals.tuples():
        step = "open" if kind == "count_open" else "close"
        try:
            sent = send_job(
                operations.config,
                ctx.db,
                kind,
                sc.Scope("terminal", tid),
                text=text,
                expires=COUNT_JOB_EXPIRES,
                job_id=f"{stocktake.label(count.id)}-{step}-{tid}"[:64],
            )
        except JobError as exc:
            problems.append(f"{tid}: {exc}")
            continue
        if sent.error:
            problems.append(f"{tid}: {sent.error}")
    return problems


@page("stock")
def counts(ctx: Context) -> Response:
    return _list(ctx)


def _list(ctx: Context, status: int = 200, problems: list[str] | None = None) -> Response:
    stores = ctx.viewer.visible_stores(ctx.db)
    categories = sorted({c for c in product_categories(ctx.db).values() if c})
    return ctx.render(
        "stock_counts.html",
        status,
        counts=stocktake.counts_of(ctx.db, stores),
        stores=stores,
        categories=categories,
        count_label=stocktake.label,
        problems=problems or [],
        may_count=ctx.viewer.may("stock"),
    )


@action("stock")
def open_count(ctx: Context, form) -> Response:
    store = str(form.get("store", ""))
    if store not in ctx.viewer.visible_stores(ctx.db):  # hidden, or no terminal of it
        raise NotFound(store)
    try:
        count = stocktake.open_count(
            ctx.db, store, [str(c) for c in form.getlist("category")], ctx.viewer.name, ctx.now()
        )
    except stocktake.CountError as exc:
        return _list(ctx, 409, [str(exc)])
    problems = _tell_terminals(ctx, count, "count_open")
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "stock count opened",
        f"{stocktake.label(count.id)} {store}: {count.categories or 'every product'}"
        + (f" ({'; '.join(problems)})" if problems else ""),
        ctx.address,
        ctx.now(),
    )
    if problems:  # opened; the page says which terminals were not told
        return _review(ctx, count, 200, problems)
    return RedirectResponse(f"/stock/counts/{stocktake.label(count.id)}", status_code=303)


def _rows(ctx: Context, count: Stocktake, review: stocktake.Review) -> list[dict]:
    names = product_names(ctx.db)
    costs = dict(
        ProductCost.select(ProductCost.sku, ProductCost.average)
        .where(ProductCost.store == count.store)
        .tuples()
        .bind(ctx.db)
    )
    return [
        {
            "sku": d.sku,
            "name": names.get(d.sku, ""),
            "counted": None if d.counted is None else quantity_text(d.counted),
            "expected": quantity_text(d.expected),
            "moved": quantity_text(d.moved_during) if d.moved_during else "",
            "adjustment": d.adjustment,
            "shown": quantity_text(d.adjustment) if d.counted is not None else "",
            "value": cost_of(d.adjustment, costs[d.sku]) if d.sku in costs else None,
        }
        for d in review.rows
    ]


@page("stock")
def count_page(ctx: Context, count_id: str) -> Response:
    return _review(ctx, _count(ctx, count_id))


def _review(ctx: Context, count: Stocktake, status: int = 200, problems=()) -> Response:
    review = stocktake.build_review(ctx.db, count, _scope(ctx, count))
    rows = _rows(ctx, count, review)
    return ctx.render(
        "stock_count.html",
        status,
        count=count,
        name=stocktake.label(count.id),
        review=review,
        rows=rows,
        value=sum(r["value"] or 0 for r in rows),
        currency=store_currencies(ctx.db, [count.store]).get(count.store, "IDR"),
        problems=list(problems),
        may_count=ctx.viewer.may("stock"),
        behind=stocktake.not_heard(ctx.db, count) if count.state == "closed" else [],
    )


@page("stock")
def count_csv(ctx: Context, count_id: str) -> Response:
    count = _count(ctx, count_id)
    review = stocktake.build_review(ctx.db, count, _scope(ctx, count))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["count", "store", "sku", "name", "counted", "expected", "moved_during", "difference"]
    )
    for r in _rows(ctx, count, review):
        writer.writerow(
            [
                stocktake.label(count.id),
                count.store,
                r["sku"],
                r["name"],
                "" if r["counted"] is None else r["counted"],
                r["expected"],
                r["moved"],
                r["shown"],
            ]
        )
    name = f"count-{stocktake.label(count.id)}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@action("stock")
def count_action(ctx: Context, form, count_id: str, step: str) -> Response:
    """``close`` (counting ends), ``post`` (the differences into the ledger: approved by
    the one who posts) or ``cancel``."""
    count = _count(ctx, count_id)
    if step not in ("close", "post", "cancel"):
        raise NotFound(step)
    problems: list[str] = []
    try:
        if step == "close":
            stocktake.close(ctx.db, count, ctx.now())
            problems = _tell_terminals(ctx, count, "count_close")
            detail = "counting closed"
        elif step == "cancel":
            was_open = count.state == "open"
            stocktake.cancel(ctx.db, count, ctx.now())
            problems = _tell_terminals(ctx, count, "count_close") if was_open else []
            detail = "cancelled"
        else:
            seen = str(form.get("lines", ""))
            moved = stocktake.post(
                ctx.db,
                count,
                ctx.viewer.name,
                ctx.now(),
                _scope(ctx, count),
                seen_lines=int(seen) if seen.isdigit() else -1,
                anyway=form.get("anyway") == "1",
            )
            detail = "posted: " + ", ".join(f"{d.sku} {d.adjustment:+d}" for d in moved)
            if form.get("anyway") == "1":
                detail += " (not waiting for every terminal)"
    except stocktake.CountError as exc:
        return _review(ctx, count, 409, [str(exc)])
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        f"stock count {step}",
        f"{stocktake.label(count.id)} {count.store}: {detail}"[:500],
        ctx.address,
        ctx.now(),
    )
    if problems:
        return _review(ctx, stocktake.find(ctx.db, count.id), 200, problems)
    return RedirectResponse(f"/stock/counts/{stocktake.label(count.id)}", status_code=303)


ROUTES = [
    Route("/stock/counts", counts),
    Route("/stock/counts/open", open_count, methods=["POST"]),
    Route("/stock/counts/{count_id}", count_page),
    Route("/stock/counts/{count_id}/count.csv", count_csv),
    Route("/stock/counts/{count_id}/{step}", count_action, methods=["POST"]),
]
