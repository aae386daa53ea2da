"""Online orders' shipping (warehouse, admins): the sold bookings with their courier and
airway bill (AWB), an AWB typed from the courier's slip, the address labels printed.

An AWB typed is checked against the courier's number format
(:func:`terminal.core.couriers.check_awb`); one the courier's API made is not replaced.
"Print unprinted" takes every label not printed yet and marks it printed in the same
transaction, so a second click (or a second browser) does not print them again; a
reprint of chosen labels is counted and the label says REPRINT. Both are audited, by
order number only: the customers' names and addresses are opened from the sealed
bookings for this page and the PDF, and kept nowhere else.
"""

from __future__ import annotations

from datetime import UTC

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.pages.payments import PaymentsDesk
from fleet.console.web import Context, action, page
from fleet.db import write_transaction
from fleet.orders import desk as orders
from fleet.orders.labels import LAYOUTS, label_for, labels_pdf
from fleet.shipping import shipments
from terminal.core.couriers import COURIERS, courier_name
from terminal.core.errors import PosError


def _desk(ctx: Context) -> PaymentsDesk:
    """The online orders' key and settings (the payments page's): none where online
    orders are off, and then no such page."""
    desk = ctx.console.payments
    if desk is None:
        raise NotFound("shipping")
    return desk


def _rows(ctx: Context, desk: PaymentsDesk) -> list[dict]:
    rows = []
    for s in shipments.sold(ctx.db):
        sold_at = s.booking.closed_at
        rows.append(
            {
                "order": s.order_no,
                "desk": s.booking.desk,
                "sku": s.booking.sku,
                "name": orders.customer_of(desk.sealer, s.booking).name,
                "sold": sold_at.replace(tzinfo=UTC).astimezone(desk.timezone) if sold_at else None,
                "courier": s.courier,
                "courier_name": courier_name(s.courier),
                "service": s.service.upper(),
                "awb": s.awb,
                "state": s.awb_state,
                "error": s.awb_error,
                "by": s.awb_by,
                "prints": s.label_prints,
                "printed": s.label_printed_at.replace(tzinfo=UTC).astimezone(desk.timezone)
                if s.label_printed_at
                else None,
            }
        )
    return rows


def _page(ctx: Context, status: int = 200, *, problems=(), done: str = "") -> Response:
    desk = _desk(ctx)
    return ctx.render(
        "shipping.html",
        status,
        rows=_rows(ctx, desk),
        couriers=[(c.code, c.name) for c in COURIERS.values()],
        layouts=list(LAYOUTS),
        problems=list(problems),
        done=done,
    )


@page("shipping")
def shipping(ctx: Context) -> Response:
    params = ctx.request.query_params
    done = ""
    if params.get("typed"):
        done = (
            ctx.translations()
            .gettext("Airway bill saved for {order}")
            .format(order=params["typed"][:40])
        )
    return _page(ctx, done=done)


@action("shipping")
def type_awb(ctx: Context, form) -> Response:
    _desk(ctx)
    order = str(form.get("order", "")).strip().upper()[:40]
    try:
        row = shipments.type_awb(
            ctx.db,
            order,
            str(form.get("courier", "")),
            str(form.get("awb", "")),
            ctx.now(),
            ctx.viewer.name,
        )
    except PosError as exc:
        return _page(ctx, 422, problems=[exc.translated(ctx.translations().gettext)])
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "airway bill typed",
        f"{order}: {row.courier} {row.awb}",
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/shipping?typed={order}", status_code=303)


@action("shipping")
def print_labels(ctx: Context, form) -> Response:
    """``what``: ``unprinted`` (all of them, marked printed) or ``reprint`` (the ticked
    ``order`` values); ``layout``: one of :data:`fleet.orders.labels.LAYOUTS`."""
    desk = _desk(ctx)
    t = ctx.translations()
    layout = str(form.get("layout", ""))
    if layout not in LAYOUTS:
        return _page(ctx, 422, problems=[t.gettext("Choose the labels' layout")])
    chosen = [str(v) for v in form.getlist("order")]
    if form.get("what") == "reprint" and not chosen:
        return _page(ctx, 422, problems=[t.gettext("Tick the labels to print again")])
    # marked printed only with the PDF made: a label that fails to draw stays unprinted
    with write_transaction(ctx.db):
        if form.get("what") == "reprint":
            rows = shipments.take_reprint(ctx.db, chosen, ctx.now())
        else:
            rows = shipments.take_unprinted(ctx.db, ctx.now())
        if not rows:
            return _page(ctx, 409, problems=[t.gettext("No label waits for printing")])
        labels = [label_for(desk.sealer, r, desk.settings) for r in rows]
        data = labels_pdf(labels, layout, t.gettext)
        accounts.audit(
            ctx.db,
            ctx.viewer.name,
            "labels printed",
            f"{layout}: {', '.join(r.order_no for r in rows)}"
            + (" (reprint)" if form.get("what") == "reprint" else ""),
            ctx.address,
            ctx.now(),
        )
    stamp = ctx.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="labels-{layout}-{stamp}.pdf"'},
    )


ROUTES = [
    Route("/shipping", shipping),
    Route("/shipping/awb", type_awb, methods=["POST"]),
    Route("/shipping/labels", print_labels, methods=["POST"]),
]
