"""Stock (issue 19): a store's stock on hand per product, from the ledger the terminals'
journals feed (:mod:`fleet.inventory`), with the cost per unit by moving average and the
value at cost; a figure below zero (sold before it was received) flagged; each product's
movements behind its figure; the table as CSV. Owners and managers see their own stores
only, as every page does.

Low stock: owners and fleet admins set a product's minimum at a store; the products
below it are listed first, with what to reorder (``terminal.core.inventory``:
twice the minimum plus a week of the last four weeks' sales, less the stock), also as
CSV for the supplier's order; "Sales now" shows how many there are."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.central import store_currencies
from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.sales_now import product_codes, product_names, store_days
from fleet.console.web import Context, action, page
from fleet.db import write_transaction
from fleet.inventory import locations, low_stock, minimums, movements, on_hand, set_minimum
from fleet.models import ProductCost
from fleet.orders.desk import booked_at
from terminal.core.inventory import check_counted, quantity_text
from terminal.core.margins import cost_of


def stock_locations(ctx: Context) -> list[str]:
    """The viewer's stores, and the ledger's other locations (a warehouse) for a viewer
    who sees every store."""
    stores = set(ctx.viewer.visible_stores(ctx.db))
    stores |= {s for s in locations(ctx.db) if ctx.viewer.sees_store(s)}
    return sorted(stores)


def _store(ctx: Context) -> tuple[str, list[str]]:
    stores = stock_locations(ctx)
    store = ctx.request.query_params.get("store") or (stores[0] if stores else "")
    if store and not ctx.viewer.sees_store(store):
        raise NotFound(store)
    return store, stores


def _rows(ctx: Context, store: str) -> list[dict]:
    names = product_names(ctx.db)
    costs = {
        c.sku: c.average
        for c in ProductCost.select().where(ProductCost.store == store).bind(ctx.db)
    }
    wanted = minimums(ctx.db, store)
    booked = booked_at(ctx.db, store)
    held_all = on_hand(ctx.db, store)
    rows = []
    for sku in sorted(set(held_all) | set(wanted)):
        cost = costs.get(sku)
        quantity = held_all[sku].quantity if sku in held_all else 0
        rows.append(
            {
                "sku": sku,
                "name": names.get(sku, ""),
                "quantity": quantity,
                "shown": quantity_text(quantity),
                "negative": quantity < 0,
                "movements": held_all[sku].movements if sku in held_all else 0,
                "cost": cost,
                "value": None if cost is None else cost_of(quantity, cost),
                "minimum": wanted.get(sku),
                "booked": booked.get(sku, 0),
            }
        )
    return rows


def _low(ctx: Context, store: str) -> list[dict]:
    """The products below their minimum, with the suggested order."""
    today = store_days(ctx.db, ctx.viewer, ctx.now()).get(store, (ctx.now().date(), 0))[0]
    names = product_names(ctx.db)
    return [
        {
            "sku": low.sku,
            "name": names.get(low.sku, ""),
            "on_hand": quantity_text(low.on_hand),
            "minimum": quantity_text(low.minimum),
            "sold": quantity_text(low.sold),
            "reorder": quantity_text(low.reorder),
        }
        for low in low_stock(ctx.db, [store], today)
    ]


@page("stock")
def stock(ctx: Context) -> Response:
    store, stores = _store(ctx)
    sku = ctx.request.query_params.get("sku", "")[:100]
    rows = _rows(ctx, store) if store else []
    behind = movements(ctx.db, store, sku) if store and sku else []
    return _page(ctx, store, stores, rows, sku=sku, behind=behind)


def _page(ctx, store, stores, rows=None, status=200, **values) -> Response:
    rows = _rows(ctx, store) if rows is None and store else rows or []
    values.setdefault("sku", "")
    values.setdefault("behind", [])
    values.setdefault("problems", [])
    return ctx.render(
        "stock.html",
        status,
        low=_low(ctx, store) if store else [],
        may_set=ctx.viewer.may("stock"),
        store=store,
        stores=stores,
        rows=rows,
        quantity_text=quantity_text,
        currency=store_currencies(ctx.db, [store]).get(store, "IDR"),
        value=sum(r["value"] or 0 for r in rows),
        **values,
    )


def parse_minimum(text: str) -> int:
    """A minimum typed as people write quantities ("12", "2,5"), in thousandths (0
    clears it); ValueError for what is not a quantity from 0 to 100.000."""
    return check_counted(text)


@action("stock")
def set_stock_minimum(ctx: Context, form) -> Response:
    """Set (0: clear) a product's minimum at a store: by SKU or any of its barcodes."""
    store, stores = _store(ctx)
    store = str(form.get("store", store))
    if not ctx.viewer.sees_store(store):
        raise NotFound(store)
    t = ctx.translations()
    code = str(form.get("product", "")).strip()[:100]
    known = code in product_names(ctx.db) or code in on_hand(ctx.db, store)
    sku = code if known else product_codes(ctx.db).get(code)
    if sku is None:
        problem = t.gettext("{code}: no product has this SKU or barcode").format(code=code)
        return _page(ctx, store, stores, status=422, problems=[problem])
    try:
        minimum = parse_minimum(str(form.get("minimum", "")))
    except ValueError:
        problem = t.gettext("The minimum is a quantity from 0 to 100.000")
        return _page(ctx, store, stores, status=422, problems=[problem])
    with write_transaction(ctx.db):
        set_minimum(ctx.db, store, sku, minimum, ctx.viewer.name, ctx.now())
        accounts.audit(
            ctx.db,
            ctx.viewer.name,
            "stock minimum set",
            f"{store}: {sku} {quantity_text(minimum)}",
            ctx.address,
            ctx.now(),
        )
    return RedirectResponse(f"/stock?store={quote(store)}", status_code=303)


@page("stock")
def reorder_csv(ctx: Context) -> Response:
    """The products below their minimum and what to order, for the supplier."""
    store, _stores = _store(ctx)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["store", "sku", "name", "on_hand", "minimum", "sold_28_days", "reorder"])
    for r in _low(ctx, store) if store else []:
        writer.writerow(
            [store, r["sku"], r["name"], r["on_hand"], r["minimum"], r["sold"], r["reorder"]]
        )
    return _csv(out.getvalue(), f"reorder-{_safe(store)}.csv")


def _safe(store: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in store)[:40]


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page("stock")
def stock_csv(ctx: Context) -> Response:
    store, _stores = _store(ctx)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["store", "sku", "name", "on_hand", "movements", "unit_cost", "value", "minimum"]
    )
    for r in _rows(ctx, store) if store else []:
        writer.writerow(
            [
                store,
                r["sku"],
                r["name"],
                r["shown"],
                r["movements"],
                r["cost"] or "",
                r["value"] or "",
                "" if r["minimum"] is None else quantity_text(r["minimum"]),
            ]
        )
    return _csv(out.getvalue(), f"stock-{_safe(store)}.csv")


ROUTES = [
    Route("/stock", stock),
    Route("/stock.csv", stock_csv),
    Route("/stock/reorder.csv", reorder_csv),
    Route("/stock/minimum", set_stock_minimum, methods=["POST"]),
]
