""" "Sales now": today's takings, updated live (server-sent events)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fleet.console import sales_now as queries
from fleet.console.labels import labeller
from fleet.console.web import Console, Context, _context, money, page

HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing a quiet stream


def _values(ctx: Context) -> dict:
    now = ctx.now()
    return {"now": queries.sales_now(ctx.db, ctx.viewer, now), "as_of": f"{now:%H:%M:%S} UTC"}


@page("sales")
def sales(ctx: Context) -> Response:
    return ctx.render("sales.html", **_values(ctx))


def _event(name: str, html: str) -> str:
    lines = html.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def live(request: Request) -> Response:
    """The fragment of "Sales now" again each time today's figures change."""
    console: Console = request.app.state.console
    ctx = await run_in_threadpool(_context, console, request)
    if ctx.viewer is None or not ctx.viewer.sees("sales"):
        return Response("sign in first", status_code=401)

    def fragment(viewer) -> tuple[tuple, str]:
        values = _values(replace(ctx, viewer=viewer))
        t = ctx.translations()
        html = console.env.get_template("_sales_now.html").render(
            _=t.gettext, ngettext=t.ngettext, label=labeller(t.gettext), money=money, **values
        )
        return values["now"].version, html

    async def stream():
        shown = await run_in_threadpool(queries.today_version, ctx.db, ctx.viewer, ctx.now())
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(console.live_every)
            quiet += console.live_every
            still = await run_in_threadpool(_context, console, request)
            if still.viewer is None:  # signed out (or the session ended) meanwhile
                yield "event: signed-out\ndata: \n\n"
                return
            viewer = still.viewer  # (as it is now: its stores may have changed)
            if not viewer.sees("sales"):
                yield "event: signed-out\ndata: \n\n"
                return
            version = await run_in_threadpool(queries.today_version, ctx.db, viewer, ctx.now())
            if version != shown:
                shown, html = await run_in_threadpool(fragment, viewer)
                yield _event("update", html)
                quiet = 0.0
            elif quiet >= HEARTBEAT:
                yield ": still here\n\n"
                quiet = 0.0

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


ROUTES = [Route("/sales", sales), Route("/sales/live", live)]
