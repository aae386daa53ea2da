"""Margins (issue 19): the gross margin of a day or a month per product, category, store,
cashier or day: revenue net of tax less the goods' cost at the moving average, both net
of what refunds took back (:mod:`terminal.core.margins`, :func:`fleet.margins.margin_report`).
One table per currency (stores of different currencies are never added together), each
with its chart and its CSV; the lines sold with no cost known (never received) are
counted, not shown as a margin of 100 %."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from starlette.responses import Response
from starlette.routing import Route

from fleet.central import store_currencies
from fleet.console.access import NotFound
from fleet.console.charts import Bar, bar_chart
from fleet.console.period_report import Period
from fleet.console.sales_now import product_categories, product_names
from fleet.console.web import Context, money, page
from fleet.margins import BY, MarginRow, margin_report
from terminal.core.inventory import quantity_text

CHART_ROWS = 20  # the chart shows the largest margins; the table and the CSV have all


def _query(ctx: Context) -> tuple[Period, str, str, dict[str, list[str]]]:
    """The period, the grouping, the chosen store and the stores per currency."""
    params = ctx.request.query_params
    try:
        period = Period.parse(
            params.get("period", "month"), params.get("date", ""), ctx.now().date()
        )
    except ValueError:
        raise NotFound("period") from None
    by = params.get("by", "product")
    if by not in BY:
        raise NotFound(by)
    store = params.get("store", "")
    if store and not ctx.viewer.sees_store(store):
        raise NotFound(store)
    stores = [store] if store else ctx.viewer.visible_stores(ctx.db)
    currencies = store_currencies(ctx.db, stores)
    groups: dict[str, list[str]] = defaultdict(list)
    for s in stores:
        if s in currencies:  # a store that has sold nothing has no margin
            groups[currencies[s]].append(s)
    return period, by, store, dict(sorted(groups.items()))


def _tables(ctx: Context, period: Period, by: str, groups) -> dict[str, list[MarginRow]]:
    names, categories = product_names(ctx.db), product_categories(ctx.db)
    tables = {
        currency: margin_report(
            ctx.db, stores, period.first, period.last, by, names=names, categories=categories
        )
        for currency, stores in groups.items()
    }
    return {currency: rows for currency, rows in tables.items() if rows}


@page("margins")
def margins(ctx: Context) -> Response:
    period, by, store, groups = _query(ctx)
    tables = _tables(ctx, period, by, groups)
    t = ctx.translations()
    charts = {
        currency: bar_chart(
            [
                Bar(
                    r.label or r.key or t.gettext("(no category)"),
                    r.margin,
                    money(r.margin, currency),
                    r.key,
                )
                for r in rows[:CHART_ROWS]
            ],
            label=t.gettext("Gross margin ({currency})").format(currency=currency),
        )
        for currency, rows in tables.items()
        if rows
    }
    return ctx.render(
        "margins.html",
        period=period,
        by=by,
        groups=BY,
        store=store,
        stores=ctx.viewer.visible_stores(ctx.db),
        tables=tables,
        charts=charts,
        quantity_text=quantity_text,
        query=str(ctx.request.url.query),
    )


@page("margins")
def margins_csv(ctx: Context) -> Response:
    """Every table of the page as one CSV, a currency column first: the chart's numbers."""
    period, by, store, groups = _query(ctx)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["currency", by, "name", "quantity", "net", "cost", "margin", "margin_percent", "uncosted"]
    )
    for currency, rows in _tables(ctx, period, by, groups).items():
        for r in rows:
            writer.writerow(
                [
                    currency,
                    r.key,
                    r.label if r.label != r.key else "",
                    quantity_text(r.quantity) if by == "product" else "",
                    r.net,
                    r.cost,
                    r.margin,
                    "" if r.percent is None else str(r.percent),
                    r.uncosted,
                ]
            )
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in store)[:40]
    name = f"margins-{by}-{period.label}{'-' + safe if safe else ''}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [Route("/margins", margins), Route("/margins.csv", margins_csv)]
