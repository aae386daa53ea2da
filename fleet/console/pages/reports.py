"""Reports: end of day and end of month per store, terminal and cashier; payments; tax by
rate; products; the Z reports as the terminals printed them; fraud signals. Each table
downloads as CSV; the whole report as a printable PDF."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from fleet.console import period_report
from fleet.console.access import NotFound
from fleet.console.pdf import report_pdf
from fleet.console.web import Context, page
from fleet.reports import check_z_report


def _report(ctx: Context) -> tuple[period_report.Report, str]:
    params = ctx.request.query_params
    store = params.get("store") or None
    try:
        period = period_report.Period.parse(
            params.get("period", "day"), params.get("date", ""), ctx.now().date()
        )
    except ValueError:
        raise NotFound("period") from None
    return period_report.build(ctx.db, ctx.viewer, period, store), store or ""


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@page("reports")
def reports(ctx: Context) -> Response:
    report, store = _report(ctx)
    return ctx.render(
        "reports.html",
        report=report,
        store=store,
        stores=ctx.viewer.visible_stores(ctx.db),
        query=str(ctx.request.url.query),
    )


@page("reports")
def report_csv(ctx: Context, table: str) -> Response:
    if table not in period_report.Report.TABLES:
        raise NotFound(table)
    report, store = _report(ctx)
    name = f"{table}-{report.period.label}{'-' + store if store else ''}.csv"
    return Response(
        period_report.csv_table(report, table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@page("reports")
def report_file(ctx: Context) -> Response:
    report, store = _report(ctx)
    t = ctx.translations()
    name = f"report-{report.period.label}{'-' + store if store else ''}.pdf"
    return Response(
        report_pdf(report, store, t.gettext),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@page("reports")
def z_report(ctx: Context, terminal_id: str, number: str) -> Response:
    """A Z report as the terminal journaled (and printed) it, beside the same figures the
    fleet rebuilds from the entries it covered: equal to the unit, or the differences."""
    terminal = ctx.viewer.require_terminal(ctx.db, terminal_id)
    if not number.isdigit():
        raise NotFound(number)
    try:
        check = check_z_report(ctx.db, terminal.id, int(number))
    except LookupError:
        raise NotFound(number) from None
    names = sorted(set(check.journaled) | set(check.rebuilt))
    rows = [
        (name, check.journaled.get(name), check.rebuilt.get(name), name in check.differences)
        for name in names
    ]
    return ctx.render("z_report.html", terminal=terminal, check=check, rows=rows)


ROUTES = [
    Route("/reports/z/{terminal_id}/{number}", z_report),
    Route("/reports", reports),
    Route("/reports/report.pdf", report_file),
    Route("/reports/{table}.csv", report_csv),
]
