"""Online orders' payments (finance): the bank statement uploaded at the payment
deadline, the automatic matches reviewed, confirmed or made by hand.

Nothing is applied by an upload: its lines are kept (each once: a statement uploaded
twice, or two that overlap, never pays twice), the proposals are shown, and only the
matches a person ticks are confirmed. A broken row stops the upload with every broken
row named by its line. The customers' names are shown here (finance and admins only);
they are opened from the sealed bookings for this page and not kept elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.config import OrdersSettings
from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.web import Context, action, page
from fleet.models import Booking
from fleet.orders import desk as orders
from fleet.orders.matching import AMBIGUOUS, BY_NAME, MATCHED, UNMATCHED
from fleet.orders.reconcile import proposals, upload
from fleet.orders.statements import LAYOUTS, StatementError, read_csv
from terminal.core.online_orders import OrderError
from terminal.core.sealing import Sealer

MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class PaymentsDesk:
    """What the page needs beyond the database: the key that opens the customers'
    names and the shop's online-order settings."""

    sealer: Sealer
    settings: OrdersSettings

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


def _desk(ctx: Context) -> PaymentsDesk:
    desk = ctx.console.payments
    if desk is None:  # online orders are off in this fleet's settings: no such page
        raise NotFound("payments")
    return desk


def _open(ctx: Context, desk: PaymentsDesk) -> list[dict]:
    return [
        {
            "order": b.order_no,
            "desk": b.desk,
            "sku": b.sku,
            "due": b.due,
            "deadline": b.deadline.replace(tzinfo=UTC).astimezone(desk.timezone),
            "name": orders.customer_of(desk.sealer, b).name,
        }
        for b in orders.open_bookings(ctx.db)
    ]


@page("payments")
def payments(ctx: Context) -> Response:
    desk = _desk(ctx)
    confirmed = ctx.request.query_params.get("confirmed", "")
    return ctx.render(
        "payments.html",
        bookings=_open(ctx, desk),
        layouts=list(LAYOUTS),
        confirmed=confirmed,
        problems=[],
        form={},
    )


@action("payments")
def upload_statement(ctx: Context, form) -> Response:
    desk = _desk(ctx)
    account = str(form.get("account", "")).strip()[:40]
    layout = str(form.get("layout", ""))
    statement = form.get("statement")
    problems: list[str] = []
    data = b""
    if not account:
        problems.append(ctx.translations().gettext("Name the bank account"))
    if layout not in LAYOUTS:
        problems.append(ctx.translations().gettext("Choose the statement's layout"))
    if statement is None or not hasattr(statement, "file"):
        problems.append(ctx.translations().gettext("Choose the statement's file"))
    else:
        data = statement.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            problems.append(ctx.translations().gettext("The file is larger than 10 MB"))
    lines = []
    if not problems:
        try:
            lines = read_csv(data, LAYOUTS[layout])
        except StatementError as exc:
            problems = [str(e) for e in exc.errors]
    if problems:
        return ctx.render(
            "payments.html",
            422,
            bookings=_open(ctx, desk),
            layouts=list(LAYOUTS),
            confirmed="",
            problems=problems,
            form=form,
        )
    new = upload(ctx.db, account, lines, ctx.now())
    found = proposals(ctx.db, desk.sealer, lines, desk.timezone)
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "statement uploaded",
        f"{account}: {len(lines)} lines, {new} new",
        ctx.address,
        ctx.now(),
    )
    return ctx.render(
        "payments_review.html",
        account=account,
        proposals=found,
        new=new,
        bookings=_open(ctx, desk),
        kinds={
            "matched": MATCHED,
            "by_name": BY_NAME,
            "ambiguous": AMBIGUOUS,
            "unmatched": UNMATCHED,
        },
    )


@action("payments")
def confirm(ctx: Context, form) -> Response:
    """The matches ticked (``match``: ``ORDER|LINE``) and those chosen by hand for a line
    (``line-KEY``: ``ORDER``), each confirmed on its own; a refused one is said."""
    _desk(ctx)
    # ticked proposals are of the exact amount; a line matched by hand may bring another
    # amount, which the person chose knowing it (both amounts go to the audit trail)
    chosen = [(*str(v).partition("|")[::2], False) for v in form.getlist("match")]
    by_hand = [(k, v) for k, v in form.multi_items() if k.startswith("line-") and v]
    chosen += [(str(value), key.removeprefix("line-"), True) for key, value in by_hand]
    done, refused = 0, []
    for order, line, other_amount in chosen:
        try:
            orders.confirm_payment(
                ctx.db, order, line, ctx.now(), ctx.viewer.name, other_amount=other_amount
            )
        except OrderError as exc:
            refused.append(exc.translated(ctx.translations().gettext))
            continue
        done += 1
        booking = Booking.select().where(Booking.order_no == order).bind(ctx.db).get()
        accounts.audit(
            ctx.db,
            ctx.viewer.name,
            "payment confirmed",
            f"{order} (due {booking.due}) by line {line} ({booking.paid_amount})"
            + (" matched by hand" if other_amount else ""),
            ctx.address,
            ctx.now(),
        )
    if refused:
        desk = _desk(ctx)
        return ctx.render(
            "payments.html",
            409,
            bookings=_open(ctx, desk),
            layouts=list(LAYOUTS),
            confirmed=str(done),
            problems=refused,
            form={},
        )
    return RedirectResponse(f"/payments?confirmed={done}", status_code=303)


ROUTES = [
    Route("/payments", payments),
    Route("/payments/upload", upload_statement, methods=["POST"]),
    Route("/payments/confirm", confirm, methods=["POST"]),
]
