"""Trends (issue 19): the figures of :mod:`fleet.console.trends` as charts an owner
looks at rather than reads (:mod:`fleet.console.charts`), each with its numbers as CSV
(``/trends.csv?chart=...`` with the page's filters: the rows the chart is drawn from).

Filters: one store, or all the viewer's stores of one currency (amounts of different
currencies are never added: where the stores take several, the currency is chosen); a
period (the last 28 business days by default); the period compared (the one right before,
or the same weeks 52 weeks earlier). A filter that makes no sense is answered 400 with
what to write instead; a store the viewer does not see, 404 as everywhere. Members' ids
are shown only to roles that see "members"; everyone else gets the aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from fleet.central import store_currencies
from fleet.console import trends
from fleet.console.access import NotFound
from fleet.console.charts import Bar, bar_chart, heat_map, series_chart
from fleet.console.labels import labeller
from fleet.console.sales_now import store_days
from fleet.console.web import Context, money, page

LAPSED_SHOWN = 200  # the lapsed members listed on the page (the largest spenders first)
# characters written beside a bar: what fits in the bar chart's margin right of its
# longest bar (120 px at 11 px type, digits about 6 px wide)
BESIDE_BAR = 18


class BadQuery(Exception):
    """A filter that makes no sense (400); the message says what to write instead."""


@dataclass(frozen=True)
class Choice:
    """The stores asked for, and what the filter form offers."""

    store: str  # "": all the stores of ``currency``
    currency: str
    stores: tuple[str, ...]
    visible: list[str]
    currency_of: dict[str, str]
    groups: dict[str, list[str]]  # currency -> stores


def _choice(ctx: Context) -> Choice:
    params = ctx.request.query_params
    visible = ctx.viewer.visible_stores(ctx.db)
    currency_of = store_currencies(ctx.db, visible)
    groups = trends.group_stores(currency_of, visible)
    store = params.get("store", "")
    if store:
        if store not in visible:  # another's, or none: the same answer
            raise NotFound(store)
        return Choice(store, currency_of.get(store, ""), (store,), visible, currency_of, groups)
    currency = params.get("currency", "") or next(iter(groups), "")
    if currency and currency not in groups:
        raise NotFound(currency)
    stores = tuple(groups.get(currency, ()))
    return Choice("", currency, stores, visible, currency_of, groups)


def _scope(ctx: Context, choice: Choice) -> trends.Scope:
    """The period asked for (BadQuery: one that makes no sense)."""
    _ = ctx.translations().gettext
    params = ctx.request.query_params
    local = store_days(ctx.db, ctx.viewer, ctx.now())
    days = [day for store, (day, _hour) in local.items() if store in choice.stores]
    today = max(days, default=ctx.now().date())  # the stores' own business day

    def day(name: str) -> date | None:
        text = params.get(name, "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            message = _("“{text}” is not a date: write it as 2026-11-23.")
            raise BadQuery(message.format(text=text[:40])) from None

    first, last = day("from"), day("to")
    last = last or (today if first is None or first <= today else first)
    first = first or trends.default_period(last)[0]
    compare = params.get("compare", "") or "previous"
    if last < first:
        raise BadQuery(_("The period ends before it starts: “to” is before “from”."))
    if (last - first).days + 1 > trends.LONGEST:
        raise BadQuery(_("A period of at most {days} days.").format(days=trends.LONGEST))
    if first < trends.EARLIEST:
        raise BadQuery(_("A period from {day} on.").format(day=trends.EARLIEST.isoformat()))
    if compare not in trends.COMPARISONS:
        raise BadQuery(_("Compare with the previous period or the same weeks last year."))
    return trends.Scope(choice.stores, choice.currency, first, last, compare)


def _query(choice: Choice, scope: trends.Scope) -> str:
    """The filters as the page resolved them (the CSV links: the same figures later)."""
    where = {"store": choice.store} if choice.store else {"currency": choice.currency}
    return urlencode(
        {
            **where,
            "from": scope.first.isoformat(),
            "to": scope.last.isoformat(),
            "compare": scope.compare,
        }
    )


def _sections(ctx: Context, scope: trends.Scope) -> dict:
    """Each section's figures and charts, drawn from the rows of its CSV."""
    t = ctx.translations()
    _, label = t.gettext, labeller(t.gettext)
    db, viewer, currency = ctx.db, ctx.viewer, scope.currency

    def m(amount: int) -> str:
        return money(amount, currency)

    weekdays = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    cells = trends.heatmap(db, viewer, scope)
    values = [[0] * 24 for _w in weekdays]
    titles = [[""] * 24 for _w in weekdays]
    for c in cells:
        values[c["weekday"] - 1][c["hour"]] = c["paid"]
        sales = t.ngettext("{n} sale", "{n} sales", c["sales"]).format(n=c["sales"])
        titles[c["weekday"] - 1][c["hour"]] = (
            f"{weekdays[c['weekday'] - 1]} {c['hour']:02d}:00: {m(c['paid'])}, {sales}"
        )
    names = (
        _("This period"),
        _("Previous period") if scope.compare == "previous" else _("Same weeks last year"),
    )

    def series(rows: list[dict], now: str, base: str, text, chart_label: str):
        return series_chart(
            [r["day"] for r in rows],
            [date.fromisoformat(r["day"]).strftime("%d.%m") for r in rows],
            [r[now] for r in rows],
            [r[base] for r in rows],
            label=chart_label,
            names=names,
            texts=([text(r[now]) for r in rows], [text(r[base]) for r in rows]),
        )

    growth = trends.growth(db, viewer, scope)
    paid = sum(r["paid"] for r in growth)
    compared = sum(r["compared_paid"] for r in growth)
    basket = trends.basket(db, viewer, scope)
    sales = sum(r["sales"] for r in basket)
    base_sales = sum(r["compared_sales"] for r in basket)
    items = sum(float(r["items"]) for r in basket)
    base_items = sum(float(r["compared_items"]) for r in basket)
    movers = trends.movers(db, viewer, scope)

    def mover_text(r: dict) -> str:
        """The takings, and the quantity after them when both fit beside the bar."""
        both = f"{m(r['takings'])} · {r['quantity']}"
        return both if len(both) <= BESIDE_BAR else m(r["takings"])

    def mover_bars(group: str) -> list[Bar]:
        return [
            Bar(r["name"] or r["sku"], r["takings"], mover_text(r), r["sku"])
            for r in movers
            if r["group"] == group
        ]

    tenders = trends.tenders(db, viewer, scope)
    members = trends.members(db, viewer, scope)
    visit_labels = {
        "1": _("1 visit"),
        "2": _("2 visits"),
        "3-5": _("3 to 5 visits"),
        "6+": _("6 visits or more"),
    }
    return {
        "heatmap": heat_map(
            values,
            titles,
            rows=weekdays,
            label=_("Takings by weekday and hour"),
            legend=(_("less"), _("more")),
        ),
        "growth": {
            "chart": series(growth, "paid", "compared_paid", m, _("Takings by day")),
            "paid": paid,
            "compared": compared,
            "change": trends.percent_change(paid, compared),
            "by_week": scope.step == 7,
        },
        "basket": {
            "average_chart": series(
                basket, "average_basket", "compared_average_basket", m, _("Average basket")
            ),
            "items_chart": series(
                basket,
                "items_per_basket",
                "compared_items_per_basket",
                lambda x: f"{x:g}",
                _("Items per basket"),
            ),
            "average_now": trends.average(sum(r["paid"] for r in basket), sales),
            "average_base": trends.average(sum(r["compared_paid"] for r in basket), base_sales),
            "items_now": round(items / sales, 2) if sales else 0,
            "items_base": round(base_items / base_sales, 2) if base_sales else 0,
        },
        "movers": {
            "best": bar_chart(mover_bars("best"), label=_("Best sellers, net of returns")),
            "worst": bar_chart(mover_bars("worst"), label=_("Slowest sellers, net of returns")),
            "rows": movers,
        },
        "tenders": {
            "chart": bar_chart(
                [
                    Bar(
                        label(r["kind"]),
                        float(r["share_percent"]),
                        f"{r['share_percent']} % · {m(r['paid'])}",
                        r["kind"],
                    )
                    for r in tenders
                ],
                label=_("Share of the takings by payment type"),
            ),
            "rows": tenders,
        },
        "members": {
            "figures": members,
            "visits": bar_chart(
                [Bar(visit_labels[k], n, str(n), f"visits_{k}") for k, n in members.visits.items()],
                label=_("Members by visits in the period"),
            ),
            "spend": bar_chart(
                [
                    Bar(
                        _("Members"),
                        members.member_average,
                        m(members.member_average),
                        "member_average_spend",
                    ),
                    Bar(
                        _("Everyone else"),
                        members.other_average,
                        m(members.other_average),
                        "other_average_spend",
                    ),
                ],
                label=_("Average spend per visit"),
            ),
            # the only personal datum: ids, for the roles that may see them
            "lapsed": members.lapsed[:LAPSED_SHOWN] if viewer.sees("members") else None,
            "lapsed_count": len(members.lapsed),
        },
    }


@page("trends")
def trends_page(ctx: Context) -> Response:
    choice = _choice(ctx)
    params = ctx.request.query_params
    form = {name: params.get(name, "")[:40] for name in ("from", "to", "compare")}
    values = {"choice": choice, "form": form, "problem": "", "scope": None, "query": ""}
    try:
        scope = _scope(ctx, choice)
    except BadQuery as problem:
        values["problem"] = str(problem)
        return ctx.render("trends.html", 400, **values)
    values.update(
        scope=scope,
        sections=_sections(ctx, scope),
        query=_query(choice, scope),
        form={"from": scope.first, "to": scope.last, "compare": scope.compare},
    )
    return ctx.render("trends.html", **values)


@page("trends")
def trends_csv(ctx: Context) -> Response:
    chart = ctx.request.query_params.get("chart", "")
    if chart not in trends.CHARTS:
        message = ctx.translations().gettext("No chart “{chart}”: one of {charts}.")
        return Response(
            message.format(chart=chart[:40], charts=", ".join(trends.CHARTS)),
            status_code=404,
            media_type="text/plain; charset=utf-8",
        )
    choice = _choice(ctx)
    try:
        scope = _scope(ctx, choice)
    except BadQuery as problem:
        return Response(str(problem), status_code=400, media_type="text/plain; charset=utf-8")
    rows = trends.chart_rows(ctx.db, ctx.viewer, scope, chart)
    where = choice.store or choice.currency
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in where)[:40]
    name = f"trends-{chart}-{scope.first}-{scope.last}-{safe}.csv"
    return Response(
        trends.csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [Route("/trends", trends_page), Route("/trends.csv", trends_csv)]
