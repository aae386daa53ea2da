"""``/metrics``: the fleet's figures for Prometheus, to the addresses allowed
(``[console] metrics_from``); no session (a scraper has none), so nobody else gets it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleet import metrics
from fleet.console.web import Console


async def scrape(request: Request) -> Response:
    console: Console = request.app.state.console
    peer = request.client.host if request.client else ""
    if peer not in console.settings.metrics_from:
        return Response("not for this address", status_code=403)
    text = await run_in_threadpool(
        lambda: metrics.render(metrics.fleet_samples(console.db, console.clock()))
    )
    return Response(text, media_type=metrics.CONTENT_TYPE)


ROUTES = [Route("/metrics", scrape)]
