"""The online orders' reports: end of day and end of month, per shop and overall (drop
orders, book orders, online sales, statement lines, the other transactions), with the
check that online and other sales add up to the net sales of the terminals' Z reports.
Downloads as CSV and PDF. A store manager sees their stores only; nothing personal is
on them (no customer, no statement line's description)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from fleet.console.access import NotFound
from fleet.console.pdf import online_report_pdf
from fleet.console.period_report import Period
from fleet.console.web import Context, page
from fleet.orders import report as figures


def _report(ctx: Context) -> tuple[figures.OnlineReport, str]:
    desk = ctx.console.payments
    if desk is None:  # online orders are off in this fleet's settings: no such page
        raise NotFound("online")
    tz = ZoneInfo(desk.settings.timezone)
    params = ctx.request.query_params
    store = params.get("store") or ""
    today = ctx.now().replace(tzinfo=UTC).astimezone(tz).date()
    try:
        period = Period.parse(params.get("period", "day"), params.get("date", ""), today)
    except ValueError:
        raise NotFound("period") from None
    report = figures.build(ctx.db, ctx.viewer, period.kind, period.first, period.last, tz, store)
    return report, store


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def _name(report: figures.OnlineReport, store: str, ext: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in store)[:40]
    return f"online-{report.label}{'-' + safe if store else ''}.{ext}"


@page("online")
def online(ctx: Context) -> Response:
    report, store = _report(ctx)
    return ctx.render(
        "online_reports.html",
        report=report,
        store=store,
        stores=ctx.viewer.visible_stores(ctx.db),
        figures=figures.FIGURES,
        shopless=figures.SHOPLESS,
        query=str(ctx.request.url.query),
    )


@page("online")
def online_csv(ctx: Context) -> Response:
    report, store = _report(ctx)
    return Response(
        figures.csv_text(report),
        media_type="text/csv; charset=utf-8",
        headers=_download(_name(report, store, "csv")),
    )


@page("online")
def online_pdf(ctx: Context) -> Response:
    report, store = _report(ctx)
    return Response(
        online_report_pdf(report, store, ctx.translations().gettext),
        media_type="application/pdf",
        headers=_download(_name(report, store, "pdf")),
    )


ROUTES = [
    Route("/online", online),
    Route("/online/report.csv", online_csv),
    Route("/online/report.pdf", online_pdf),
]
