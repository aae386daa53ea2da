"""Stock (issue 19): a store's stock on hand per product, from the ledger the terminals'
journals feed (:mod:`fleet.inventory`), with the cost per unit by moving average and the
value at cost; a figure below zero (sold before it was received) flagged; each product's
movements behind its figure; the table as CSV. Owners and managers see their own stores
only, as every page does."""

from __future__ import annotations

import csv
import io

from starlette.responses import Response
from starlette.routing import Route

from fleet.central import store_currencies
from fleet.console.access import NotFound
from fleet.console.sales_now import product_names
from fleet.console.web import Context, page
from fleet.inventory import movements, on_hand
from fleet.models import ProductCost
from terminal.core.inventory import quantity_text


def _store(ctx: Context) -> tuple[str, list[str]]:
    stores = ctx.viewer.visible_stores(ctx.db)
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
    rows = []
    for sku, held in sorted(on_hand(ctx.db, store).items()):
        cost = costs.get(sku)
        rows.append(
            {
                "sku": sku,
                "name": names.get(sku, ""),
                "quantity": held.quantity,
                "shown": quantity_text(held.quantity),
                "negative": held.negative,
                "movements": held.movements,
                "cost": cost,
                "value": None if cost is None else held.quantity * cost // 1000,
            }
        )
    return rows


@page("stock")
def stock(ctx: Context) -> Response:
    store, stores = _store(ctx)
    sku = ctx.request.query_params.get("sku", "")[:100]
    rows = _rows(ctx, store) if store else []
    behind = movements(ctx.db, store, sku) if store and sku else []
    return ctx.render(
        "stock.html",
        store=store,
        stores=stores,
        rows=rows,
        sku=sku,
        behind=behind,
        quantity_text=quantity_text,
        currency=store_currencies(ctx.db, [store]).get(store, "IDR"),
        value=sum(r["value"] or 0 for r in rows),
    )


@page("stock")
def stock_csv(ctx: Context) -> Response:
    store, _stores = _store(ctx)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["store", "sku", "name", "on_hand", "movements", "unit_cost", "value"])
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
            ]
        )
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in store)[:40]
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stock-{safe}.csv"'},
    )


ROUTES = [Route("/stock", stock), Route("/stock.csv", stock_csv)]
