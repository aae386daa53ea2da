"""The warehouse's page (online orders): the desks' drop-order requests, live, oldest
first; a scan field a USB scanner types into (as a keyboard: the code, then Enter) that
hands the oldest request for the scanned product over (or, in "take back" mode, takes an
item back from a desk whose booking ended); the stock per product and location in its
three states and the latest stock moves.

A scan acts once: the form carries a fresh nonce, recorded with the scan's audit row in
the same transaction as the move; the same form sent twice (a double Enter, a reload
that posts again) finds it and says what the first did, without a second move.
Which drop order a scan is for is found here (the oldest requested one of that product
at this warehouse; for a take back, the one whose booking was cancelled or released,
else one handed over without a booking), or chosen on the page; ``fleet.orders.desk``
checks the item and moves the unit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import peewee
from peewee import fn
from starlette.responses import Response
from starlette.routing import Route

from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.sales_now import product_codes, product_names
from fleet.console.web import Context, action, live, page
from fleet.db import write_transaction
from fleet.models import Booking, ConsoleAudit, DropOrder, OnlineStock, StockMove
from fleet.orders import desk as orders
from terminal.core.errors import N_
from terminal.core.online_orders import OrderError

HAND, TAKE = "hand", "take"
MOVES_SHOWN = 50
NONCE = re.compile(r"[0-9a-f]{32}")
HANDED, TAKEN = "drop handed over", "drop taken back"  # the audit's actions


# -- what the page shows ------------------------------------------------------------------------
def _desk(ctx: Context):
    desk = ctx.console.payments
    if desk is None:  # online orders are off in this fleet's settings: no such page
        raise NotFound("warehouse")
    return desk


def _warehouse(ctx: Context) -> tuple[str, list[str]]:
    """The warehouse asked for (``wh``; the first of ``[orders] warehouses`` by default)
    and them all."""
    names = list(_desk(ctx).settings.warehouses)
    asked = ctx.request.query_params.get("wh", "") or names[0]
    if asked not in names:
        raise NotFound(asked[:40])
    return asked, names


def _timezone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(_desk(ctx).settings.timezone)


def _age(ctx: Context, since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    t = ctx.translations()
    if minutes < 60:
        return t.gettext("{m} min").format(m=minutes)
    if minutes < 24 * 60:
        return t.gettext("{h} h {m} min").format(h=minutes // 60, m=minutes % 60)
    return t.gettext("{d} d {h} h").format(d=minutes // 1440, h=minutes // 60 % 24)


def _local(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(_timezone(ctx)).strftime("%Y-%m-%d %H:%M")


def requests_values(ctx: Context) -> dict:
    """The live section: requests waiting (oldest first), and the items out at desks
    that may come back."""
    warehouse, _names = _warehouse(ctx)
    now = ctx.now()
    names = product_names(ctx.db)
    waiting = (
        DropOrder.select()
        .where((DropOrder.warehouse == warehouse) & (DropOrder.state == "requested"))
        .order_by(DropOrder.requested_at, DropOrder.id)
        .bind(ctx.db)
    )
    requests = [
        {
            "id": d.id,
            "desk": d.desk,
            "sku": d.sku,
            "name": names.get(d.sku) or d.sku,
            "quantity": d.quantity,
            "age": _age(ctx, d.requested_at, now),
            "at": _local(ctx, d.requested_at),
        }
        for d in waiting
    ]
    out = [
        {
            "id": d.id,
            "desk": d.desk,
            "sku": d.sku,
            "name": names.get(d.sku) or d.sku,
            "state": d.state,
            "booking": booking_state,
            "returnable": _returnable(d.state, booking_state),
            "at": _local(ctx, d.handed_at),
        }
        for d, booking_state in _out_at_desks(ctx.db, warehouse)
    ]
    return {"warehouse": warehouse, "requests": requests, "out": out, "as_of": _local(ctx, now)}


def requests_version(ctx: Context) -> tuple:
    """Changes when a request comes or goes (or an item goes out or comes back), and
    every minute (the ages shown)."""
    warehouse, _names = _warehouse(ctx)
    counts = (
        DropOrder.select(DropOrder.state, fn.COUNT(DropOrder.id), fn.MAX(DropOrder.id))
        .where(DropOrder.warehouse == warehouse)
        .group_by(DropOrder.state)
        .order_by(DropOrder.state)
        .tuples()
        .bind(ctx.db)
    )
    return (tuple(counts), ctx.now().replace(second=0, microsecond=0))


def _out_at_desks(db: peewee.Database, warehouse: str) -> list[tuple[DropOrder, str]]:
    """Drop orders whose item is still at a desk: handed over (or cancelled: their
    booking was), not sold; with their latest booking's state ("" : none), by when
    they went out."""
    sold = Booking.select(Booking.drop_order).where(
        (Booking.state == "sold") & Booking.drop_order.is_null(False)
    )
    drops = list(
        DropOrder.select()
        .where(
            (DropOrder.warehouse == warehouse)
            & DropOrder.state.in_(("handed", "cancelled"))
            & DropOrder.id.not_in(sold)
        )
        .order_by(DropOrder.handed_at, DropOrder.id)
        .bind(db)
    )
    states: dict[int, str] = {}
    if drops:
        for number, state in (
            Booking.select(Booking.drop_order, Booking.state)
            .where(Booking.drop_order.in_([d.id for d in drops]))
            .order_by(Booking.booked_at)
            .tuples()
            .bind(db)
        ):
            states[number] = state  # the latest booking of the item
    return [(d, states.get(d.id, "")) for d in drops]


def _returnable(state: str, booking_state: str) -> bool:
    """Whether the item may come back: its booking was cancelled or released, or it went
    out without one; not while a customer's booking holds it (open, paid) or it is sold."""
    return state == "cancelled" or booking_state in ("", "cancelled", "released")


def _stock(db: peewee.Database, sku: str) -> list[OnlineStock]:
    query = OnlineStock.select().order_by(OnlineStock.sku, OnlineStock.location)
    if sku:
        query = query.where(OnlineStock.sku == sku)
    return list(query.bind(db))


def _moves(db: peewee.Database, sku: str) -> list[StockMove]:
    query = StockMove.select().order_by(StockMove.at.desc(), StockMove.id.desc())
    if sku:
        query = query.where(StockMove.sku == sku)
    return list(query.limit(MOVES_SHOWN).bind(db))


# -- a scan -------------------------------------------------------------------------------------
def sku_of(db: peewee.Database, code: str) -> str | None:
    """The product a scanned code names: a SKU the online stock, a drop order or the
    catalogue knows, or a catalogue barcode; None: an unknown code."""
    if not code or len(code) > 40:
        return None
    for model in (OnlineStock, DropOrder):
        if model.select().where(model.sku == code).bind(db).exists():
            return code
    if code in product_names(db):
        return code
    return product_codes(db).get(code)


@dataclass(frozen=True)
class Outcome:
    """What a scan did (``kind``: handed, taken, again) or why nothing (refused,
    unknown, none, empty, stale), said with ``message`` and ``values``."""

    kind: str
    message: str
    values: dict = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.kind in ("handed", "taken", "again")

    @property
    def status(self) -> int:
        return {"unknown": 422, "empty": 422, "stale": 400}.get(
            self.kind, 200 if self.done else 409
        )


def _lock(db: peewee.Database, warehouse: str, sku: str) -> None:
    """The product's drop orders at this warehouse locked until the scan's transaction
    ends (PostgreSQL; SQLite's write transaction locks the whole database already), so
    two scans at once never pick the same drop order, and a form sent twice at once
    finds the first one's nonce."""
    if isinstance(db, peewee.SqliteDatabase):
        return
    list(
        DropOrder.select(DropOrder.id)
        .where((DropOrder.warehouse == warehouse) & (DropOrder.sku == sku))
        .for_update()
        .bind(db)
    )


def _done_before(db: peewee.Database, nonce: str, now: datetime) -> Outcome | None:
    mark = f"[scan {nonce}]"
    row = (
        ConsoleAudit.select()
        .where(
            ConsoleAudit.action.in_((HANDED, TAKEN))
            & (ConsoleAudit.at >= now - timedelta(days=1))
            & ConsoleAudit.detail.contains(mark)
        )
        .bind(db)
        .first()
    )
    if row is None or not row.detail.endswith(mark):
        return None
    number = re.match(r"drop order (\d+)", row.detail)
    return Outcome(
        "again",
        N_("This scan was done already (drop order {id}): nothing done again"),
        {"id": number[1] if number else "?"},
    )


def _hand_candidate(db, warehouse: str, sku: str) -> DropOrder | None:
    return (
        DropOrder.select()
        .where(
            (DropOrder.warehouse == warehouse)
            & (DropOrder.sku == sku)
            & (DropOrder.state == "requested")
        )
        .order_by(DropOrder.requested_at, DropOrder.id)
        .bind(db)
        .first()
    )


def _take_candidate(db, warehouse: str, sku: str) -> DropOrder | None:
    """The item coming back: a drop order whose booking was cancelled first, then one
    whose booking was released or that had none, the longest out first."""
    found = [
        (d.state != "cancelled", d.handed_at or datetime.min, d.id, d)
        for d, booking in _out_at_desks(db, warehouse)
        if d.sku == sku and _returnable(d.state, booking)
    ]
    return min(found, key=lambda item: item[:3])[3] if found else None


def scan(
    db: peewee.Database,
    *,
    warehouse: str,
    code: str,
    mode: str,
    nonce: str,
    chosen: int | None,
    at: datetime,
    actor: str,
    address: str,
) -> Outcome:
    """One scan at ``warehouse``: hand over (``mode`` hand) or take back (take) the drop
    order ``chosen``, or the one found for the product; audited with its nonce, in the
    move's transaction. ``at``: UTC without a zone (the console's clock)."""
    code = code.strip()
    if not NONCE.fullmatch(nonce):
        return Outcome("stale", N_("The form is out of date: reload the page"))
    if not code:
        return Outcome("empty", N_("Scan a product's code"))
    sku = sku_of(db, code)
    if sku is None:
        return Outcome("unknown", N_("Unknown code {code}"), {"code": code[:40]})
    with write_transaction(db):
        _lock(db, warehouse, sku)
        again = _done_before(db, nonce, at)
        if again is not None:
            return again
        if chosen is not None:
            drop = DropOrder.select().where(DropOrder.id == chosen).bind(db).first()
            if drop is None or drop.warehouse != warehouse:
                return Outcome(
                    "refused", N_("Drop order {id} is not this warehouse's"), {"id": chosen}
                )
        elif mode == TAKE:
            drop = _take_candidate(db, warehouse, sku)
            if drop is None:
                return Outcome("none", N_("No item of {sku} to take back"), {"sku": sku})
        else:
            drop = _hand_candidate(db, warehouse, sku)
            if drop is None:
                return Outcome("none", N_("No open drop order for {sku}"), {"sku": sku})
        try:
            with db.atomic():  # a savepoint: a refusal leaves nothing behind
                moment = at.replace(tzinfo=UTC)
                if mode == TAKE:
                    orders.take_back(db, drop.id, sku, moment, actor)
                else:
                    orders.hand_over(db, drop.id, sku, moment, actor)
        except OrderError as exc:
            return Outcome("refused", exc.msgid, exc.params)
        source, target = (drop.desk, warehouse) if mode == TAKE else (warehouse, drop.desk)
        accounts.audit(
            db,
            actor,
            TAKEN if mode == TAKE else HANDED,
            f"drop order {drop.id} {sku}: {source} -> {target} [scan {nonce}]",
            address,
            at,
        )
    values = {"id": drop.id, "desk": drop.desk, "sku": sku}
    if mode == TAKE:
        return Outcome("taken", N_("Took back {sku} of drop order {id} from desk {desk}"), values)
    return Outcome("handed", N_("Handed over drop order {id} ({sku}) to desk {desk}"), values)


# -- the handlers -------------------------------------------------------------------------------
def _render(ctx: Context, status: int = 200, outcome: Outcome | None = None, **form) -> Response:
    warehouse, names = _warehouse(ctx)
    params = ctx.request.query_params
    mode = form.get("mode") or (TAKE if params.get("mode") == TAKE else HAND)
    sku = params.get("sku", "").strip()[:40]
    chosen = form.get("chosen", params.get("drop", ""))
    chosen_drop = None
    if str(chosen).isdigit():
        chosen_drop = (
            DropOrder.select()
            .where((DropOrder.id == int(chosen)) & (DropOrder.warehouse == warehouse))
            .bind(ctx.db)
            .first()
        )
    message = ""
    if outcome is not None:
        message = ctx.translations().gettext(outcome.message).format(**outcome.values)
    names_of = product_names(ctx.db)
    return ctx.render(
        "warehouse.html",
        status,
        warehouses=names,
        mode=mode,
        nonce=secrets.token_hex(16),
        chosen=chosen_drop,
        outcome=outcome,
        message=message,
        sku=sku,
        stock=_stock(ctx.db, sku),
        moves=[(m, _local(ctx, m.at)) for m in _moves(ctx.db, sku)],
        names=names_of,
        **requests_values(ctx),
    )


@page("warehouse")
def warehouse(ctx: Context) -> Response:
    return _render(ctx)


@action("warehouse")
def scan_code(ctx: Context, form) -> Response:
    warehouse_name, _names = _warehouse(ctx)
    mode = TAKE if form.get("mode") == TAKE else HAND
    chosen = str(form.get("drop", ""))
    outcome = scan(
        ctx.db,
        warehouse=warehouse_name,
        code=str(form.get("code", ""))[:200],
        mode=mode,
        nonce=str(form.get("nonce", "")),
        chosen=int(chosen) if chosen.isdigit() else None,
        at=ctx.now(),
        actor=ctx.viewer.name,
        address=ctx.address,
    )
    # a refused choice stays chosen (scan the right item); a done one is over
    keep = "" if outcome.done else chosen
    return _render(ctx, outcome.status, outcome, mode=mode, chosen=keep)


def _live_version(ctx: Context):
    try:
        return requests_version(ctx)
    except NotFound:
        return None


def _live_fragment(ctx: Context) -> str:
    try:
        return ctx.render_text("_warehouse_requests.html", **requests_values(ctx))
    except NotFound:
        return ""


ROUTES = [
    Route("/warehouse", warehouse),
    Route("/warehouse/scan", scan_code, methods=["POST"]),
    Route("/warehouse/live", live("warehouse", _live_version, _live_fragment)),
]
