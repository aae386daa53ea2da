""" "Sales now": today's takings, updated live (server-sent events)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from fleet.console import sales_now as queries
from fleet.console.web import Context, live, page


def _values(ctx: Context) -> dict:
    now = ctx.now()
    return {"now": queries.sales_now(ctx.db, ctx.viewer, now), "as_of": f"{now:%H:%M:%S} UTC"}


@page("sales")
def sales(ctx: Context) -> Response:
    return ctx.render("sales.html", **_values(ctx))


ROUTES = [
    Route("/sales", sales),
    Route(
        "/sales/live",
        live(
            "sales",
            lambda ctx: queries.today_version(ctx.db, ctx.viewer, ctx.now()),
            lambda ctx: ctx.render_text("_sales_now.html", **_values(ctx)),
        ),
    ),
]
