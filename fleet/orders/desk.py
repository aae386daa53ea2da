"""Central stock and book orders (seed 001), as CS desks and the warehouse change them.

Every change is one transaction that moves units between the three states of
:class:`~fleet.models.OnlineStock` and writes the :class:`~fleet.models.StockMove`
behind it, so the units of a product at a location are always the sum of its moves.

- **Drop order**: a desk asks a warehouse for an item (nothing moves yet); the warehouse
  hands it over by scanning it: a unit leaves the warehouse's available stock for the
  desk's. Taken back (a cancelled booking's item, scanned at the warehouse): the reverse.
- **Book order**: one unit of the desk's available stock becomes booked, with one
  conditional UPDATE (``available >= 1``): of two desks booking the last unit at the same
  moment, one gets the booking and the other a clear refusal. The booking is due its
  price plus a unique code, by a deadline; the customer's name, phone and address are
  sealed (AES-GCM, the booking's number as associated data).
- **Deadline**: an unpaid booking past its deadline is released (the unit is available
  again) by :func:`release_expired`, which the fleet's serve loop runs; from then on its
  number is refused.
- **Paid**: a statement line confirmed for it (:func:`confirm_payment`); the line's key is
  unique, so one line never pays two bookings. **Sold**: the terminal's sale took the
  unit out of stock, and its shipment (made with the booking, with the customer's
  courier) is due for its airway bill (:mod:`fleet.shipping`).

Times are UTC without a zone, as the fleet writes them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

import peewee

from fleet.db import write_transaction
from fleet.inventory import record
from fleet.models import (
    Booking,
    BookingCounter,
    DropOrder,
    OnlineStock,
    StatementLineRow,
    StockMove,
    StockMovement,
    Terminal,
)
from fleet.shipping.shipments import open_shipment
from terminal.core.couriers import check_courier
from terminal.core.errors import N_
from terminal.core.inventory import RECEIVING, TRANSFER
from terminal.core.online_orders import (
    DeadlineRule,
    OrderError,
    is_released,
    order_number,
    parse_order_number,
    unique_code,
)
from terminal.core.sealing import Sealer

log = logging.getLogger(__name__)
RECENT_DAYS = 3  # a closed booking's amount due is not given to another for so long
AVAILABLE, BOOKED, UNAVAILABLE = "available", "booked", "unavailable"


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class DeskRules:
    """One shop's online-order settings."""

    deadline: DeadlineRule
    timezone: ZoneInfo
    code_low: int = 1
    code_high: int = 999  # 0: no unique code


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC)


LEDGER = "fleet:orders"  # the stock ledger's terminal of the online flow's movements
_LEDGER_KIND = {"receive": RECEIVING, "hand_over": TRANSFER, "take_back": TRANSFER}


def ledger_store(db, location: str) -> str:
    """Where a location's goods count in the stock ledger: a CS desk (a terminal's id)
    in its terminal's store, a warehouse under its own name."""
    store = Terminal.select(Terminal.store).where(Terminal.id == location).bind(db).scalar()
    return store or location


def booked_at(db, store: str) -> dict[str, int]:
    """SKU -> units booked for customers at a ledger store (its desks' and its own
    location's): on its shelf, not for sale."""
    desks = [
        tid
        for (tid,) in Terminal.select(Terminal.id).where(Terminal.store == store).tuples().bind(db)
    ]
    query = (
        OnlineStock.select(OnlineStock.sku, peewee.fn.SUM(OnlineStock.booked))
        .where(OnlineStock.location.in_([store, *desks]) & (OnlineStock.booked > 0))
        .group_by(OnlineStock.sku)
    )
    return {sku: int(n) for sku, n in query.tuples().bind(db)}


def _ledger_row(
    db, move_id: int, at: datetime, sku: str, location: str, kind: str, qty: int, ref: str
) -> dict:
    naive = _naive(at)
    return {
        "terminal_id": LEDGER,
        "seq": move_id,
        "position": 1,
        "part": 1,
        "store": ledger_store(db, location),
        "sku": sku,
        "quantity": qty * 1000,
        "kind": _LEDGER_KIND[kind],
        "reason": f"{kind} {ref}".strip()[:100],
        "ts": naive,
        "business_day": naive.date(),
    }


def backfill_ledger(db) -> int:
    """The stock ledger's movements of the online flow's moves made before it (an
    upgraded fleet); each once. Returns how many were made."""
    held = StockMovement.select().where(
        (StockMovement.terminal_id == LEDGER) & (StockMovement.seq == StockMove.id)
    )
    missing = StockMove.select().where(
        StockMove.kind.in_(list(_LEDGER_KIND)) & ~peewee.fn.EXISTS(held)
    )
    rows = [
        _ledger_row(db, m.id, m.at, m.sku, m.location, m.kind, m.quantity, m.ref)
        for m in missing.bind(db)
    ]
    record(db, rows)
    return len(rows)


def _move(db, at, sku, location, kind, qty, from_state="", to_state="", ref="", actor=""):
    """A move of the online stock, and, when a unit comes into a location or leaves it,
    its movement in the stock ledger (issue 19), so the store's stock on hand and the
    warehouse's are the sum of their movements like every other's. Not the sale: the
    desk's terminal journals it, and its sale entry takes the unit out of the ledger.
    Booking, cancelling and releasing change a unit's state, not where it is."""
    move = StockMove.insert(
        at=_naive(at),
        sku=sku,
        location=location,
        kind=kind,
        quantity=qty,
        from_state=from_state,
        to_state=to_state,
        ref=ref,
        actor=actor,
    ).execute(db)
    if (not from_state or not to_state) and kind in _LEDGER_KIND:
        record(db, [_ledger_row(db, move, at, sku, location, kind, qty, ref)])


def _shift(db, sku: str, location: str, qty: int, from_state: str, to_state: str) -> bool:
    """Move ``qty`` units between two states (or in from outside / out: ""), only if
    the state they leave holds that many: one statement, so it cannot race."""
    stock = OnlineStock
    OnlineStock.insert(sku=sku, location=location).on_conflict_ignore().execute(db)
    changes = {}
    where = (stock.sku == sku) & (stock.location == location)
    if from_state:
        column = getattr(stock, from_state)
        changes[column] = column - qty
        where &= column >= qty
    if to_state:
        column = getattr(stock, to_state)
        changes[column] = column + qty
    return stock.update(changes).where(where).execute(db) == 1


def stock(db: peewee.Database, sku: str, location: str) -> tuple[int, int, int]:
    """(available, booked, unavailable) of a product at a location."""
    row = (
        OnlineStock.select()
        .where((OnlineStock.sku == sku) & (OnlineStock.location == location))
        .bind(db)
        .first()
    )
    return (row.available, row.booked, row.unavailable) if row else (0, 0, 0)


def receive(db: peewee.Database, sku: str, location: str, qty: int, at: datetime, actor: str):
    """Goods in at a location (a delivery): available."""
    with write_transaction(db):
        _shift(db, sku, location, qty, "", AVAILABLE)
        _move(db, at, sku, location, "receive", qty, "", AVAILABLE, actor=actor)


# -- drop orders ------------------------------------------------------------------------------
def request_drop(
    db: peewee.Database, desk: str, warehouse: str, sku: str, at: datetime, actor: str
) -> int:
    """A desk asks the warehouse for one unit: the warehouse's page shows it at once."""
    return DropOrder.insert(
        desk=desk,
        warehouse=warehouse,
        sku=sku,
        requested_at=_naive(at),
        requested_by=actor,
    ).execute(db)


def hand_over(db: peewee.Database, drop_id: int, scanned_sku: str, at: datetime, actor: str):
    """The warehouse scans the item it hands over: it must be the one asked for, and in
    stock; a unit moves from the warehouse to the desk."""
    with write_transaction(db):
        drop = _scanned(
            db, drop_id, scanned_sku, ("requested",), N_("Drop order {id} is not waiting")
        )
        _carry(db, drop, drop.warehouse, drop.desk, "hand_over", at, actor)
        DropOrder.update(state="handed", handed_at=_naive(at), handed_by=actor).where(
            DropOrder.id == drop_id
        ).execute(db)


def take_back(db: peewee.Database, drop_id: int, scanned_sku: str, at: datetime, actor: str):
    """The warehouse scans an item coming back from a desk (its booking was cancelled or
    released): the unit returns to the warehouse."""
    with write_transaction(db):
        drop = _scanned(
            db,
            drop_id,
            scanned_sku,
            ("handed", "cancelled"),
            N_("Drop order {id} has nothing to take back"),
        )
        holding = (
            Booking.select(Booking.order_no)
            .where((Booking.drop_order == drop_id) & (Booking.state.in_(("open", "paid", "sold"))))
            .bind(db)
            .first()
        )
        if holding is not None:  # the item carries a customer's slip: it stays at the desk
            raise OrderError(
                N_("Drop order {id}'s item is booked ({order}): it stays at the desk"),
                id=drop_id,
                order=holding.order_no,
            )
        _carry(db, drop, drop.desk, drop.warehouse, "take_back", at, actor)
        DropOrder.update(state="returned", returned_at=_naive(at)).where(
            DropOrder.id == drop_id
        ).execute(db)


def _scanned(db, drop_id: int, scanned_sku: str, states: tuple[str, ...], refusal: str):
    """The drop order a warehouse scan is for, in one of ``states``, the item the one
    it asks for; OrderError (``refusal``, or the item named) otherwise."""
    drop = DropOrder.select().where(DropOrder.id == drop_id).bind(db).first()
    if drop is None or drop.state not in states:
        raise OrderError(refusal, id=drop_id)
    if scanned_sku != drop.sku:
        raise OrderError(
            N_("Scanned {scanned}, but drop order {id} asks for {sku}"),
            scanned=scanned_sku,
            id=drop_id,
            sku=drop.sku,
        )
    return drop


def _carry(db, drop: DropOrder, source: str, target: str, kind: str, at: datetime, actor: str):
    """One available unit of the drop order's item from ``source`` to ``target``, each
    side's move written."""
    if not _shift(db, drop.sku, source, 1, AVAILABLE, ""):
        raise OrderError(N_("{sku}: none available in {location}"), sku=drop.sku, location=source)
    _shift(db, drop.sku, target, 1, "", AVAILABLE)
    ref = f"drop:{drop.id}"
    _move(db, at, drop.sku, source, kind, -1, AVAILABLE, "", ref, actor)
    _move(db, at, drop.sku, target, kind, 1, "", AVAILABLE, ref, actor)


# -- book orders ------------------------------------------------------------------------------
def book(
    db: peewee.Database,
    sealer: Sealer,
    *,
    desk: str,
    sku: str,
    price: int,
    customer: Customer,
    rules: DeskRules,
    at: datetime,
    actor: str,
    rng: Random,
    drop_order: int | None = None,
    series: str = "",
    courier: str = "",
    service: str = "",
) -> Booking:
    """One unit of ``sku`` at ``desk`` booked for ``customer``; OrderError when none is
    available (another desk took the last one). ``series``: whose numbers the booking
    takes (a terminal's id; default: the desk's own). ``courier`` (and its ``service``):
    the customer's choice, kept on the booking's shipment ("": decided later)."""
    series = series or desk
    courier = check_courier(courier)
    with write_transaction(db):
        if not _shift(db, sku, desk, 1, AVAILABLE, BOOKED):
            raise OrderError(N_("{sku}: no unit left to book at {desk}"), sku=sku, desk=desk)
        BookingCounter.insert(desk=series, last=0).on_conflict_ignore().execute(db)
        BookingCounter.update(last=BookingCounter.last + 1).where(
            BookingCounter.desk == series
        ).execute(db)
        seq = (
            BookingCounter.select(BookingCounter.last)
            .where(BookingCounter.desk == series)
            .bind(db)
            .scalar()
        )
        number = order_number(series, seq)
        # dues in use: open bookings', and those closed in the last days (a late transfer
        # for a released booking must not look like the payment of a new one)
        recent = _naive(at) - timedelta(days=RECENT_DAYS)
        taken = {
            row.due
            for row in Booking.select(Booking.due)
            .where(
                Booking.due.between(price + rules.code_low, price + rules.code_high)
                & ((Booking.state == "open") | (Booking.closed_at >= recent))
            )
            .bind(db)
        }
        deadline = rules.deadline.deadline(at, rules.timezone)
        sealed = sealer.seal(
            "booking",
            "customer",
            number,
            json.dumps([customer.name, customer.phone, customer.address], ensure_ascii=False),
        )
        for _attempt in range(5):  # another desk took the same code at the same moment
            code = unique_code(price, taken, rules.code_low, rules.code_high, rng)
            try:
                with db.atomic():  # a savepoint: a clash leaves the transaction usable
                    Booking.insert(
                        order_no=number,
                        desk=desk,
                        sku=sku,
                        price=price,
                        unique_code=code,
                        due=price + code,
                        booked_at=_naive(at),
                        deadline=_naive(deadline),
                        booked_by=actor,
                        customer=sealed,
                        drop_order=drop_order,
                    ).execute(db)
                break
            except peewee.IntegrityError:
                if not rules.code_high:
                    raise OrderError(
                        N_("Another booking is due this very amount: use unique codes")
                    ) from None
                taken.add(price + code)
        else:
            raise OrderError(N_("Every unique code for this amount is in use: raise the range"))
        _move(db, at, sku, desk, "book", 1, AVAILABLE, BOOKED, number, actor)
        open_shipment(db, number, courier, service.strip().lower()[:20], at)
        return Booking.select().where(Booking.order_no == number).bind(db).get()


def customer_of(sealer: Sealer, booking: Booking) -> Customer:
    name, phone, address = json.loads(
        sealer.open("booking", "customer", booking.order_no, bytes(booking.customer))
    )
    return Customer(name, phone, address)


def find(db: peewee.Database, scanned: str, now: datetime) -> Booking:
    """A booking by its slip's number; refused when the number is not one, unknown, or
    the booking ended without a sale (released at its deadline, cancelled). A sold one
    is found: CS tells the customer its airway bill."""
    parse_order_number(scanned)
    booking = Booking.select().where(Booking.order_no == scanned.strip().upper()).bind(db).first()
    if booking is None:
        raise OrderError(N_("{code} is not a booking number"), code=scanned.strip()[:40])
    if booking.state == "open" and is_released(_aware(booking.deadline), now):
        raise OrderError(N_("Booking {order} passed its payment deadline"), order=booking.order_no)
    over = {
        "released": N_("Booking {order} was released at its payment deadline"),
        "cancelled": N_("Booking {order} was cancelled"),
    }
    if booking.state in over:
        raise OrderError(over[booking.state], order=booking.order_no)
    return booking


def cancel(db: peewee.Database, scanned: str, at: datetime, actor: str) -> Booking:
    """CS scans a slip back: the unit is available at the desk again, and the drop order
    that brought it is cancelled (the warehouse takes the item back by scanning it)."""
    with write_transaction(db):
        booking = find(db, scanned, at)
        if booking.state != "open":
            raise OrderError(
                N_("Booking {order} is paid: refund it, not cancel"), order=booking.order_no
            )
        if not _close(db, booking, "cancelled", at, actor):
            raise OrderError(N_("Booking {order} is not open"), order=booking.order_no)
        if booking.drop_order:
            DropOrder.update(state="cancelled").where(
                (DropOrder.id == booking.drop_order) & (DropOrder.state == "handed")
            ).execute(db)
        return booking


def _transition(db, order_no: str, leaves: str, state: str, at: datetime, **more) -> bool:
    """Move a booking from ``leaves`` to ``state`` only if it is still in ``leaves``: one
    conditional UPDATE, so of two changes racing (a release and a payment, two cancels,
    two processes releasing) exactly one happens."""
    changed = (
        Booking.update(state=state, closed_at=_naive(at), **more)
        .where((Booking.order_no == order_no) & (Booking.state == leaves))
        .execute(db)
    )
    return changed == 1


def _close(db, booking: Booking, state: str, at: datetime, actor: str) -> bool:
    """An open booking released or cancelled: its unit available again. False when it
    was not open any more (another change came first); nothing moved then."""
    if not _transition(db, booking.order_no, "open", state, at):
        return False
    if not _shift(db, booking.sku, booking.desk, 1, BOOKED, AVAILABLE):
        raise RuntimeError(f"{booking.order_no}: no booked unit of {booking.sku} to give back")
    _move(db, at, booking.sku, booking.desk, state, 1, BOOKED, AVAILABLE, booking.order_no, actor)
    return True


def release_expired(db: peewee.Database, now: datetime) -> list[str]:
    """Every open booking past its deadline back to available; their numbers, for CS's
    list of released bookings."""
    released = []
    with write_transaction(db):
        for booking in (
            Booking.select()
            .where((Booking.state == "open") & (Booking.deadline < _naive(now)))
            .order_by(Booking.deadline)
            .bind(db)
        ):
            if _close(db, booking, "released", now, "deadline"):
                released.append(booking.order_no)
    return released


def open_bookings(db: peewee.Database) -> list[Booking]:
    return list(
        Booking.select().where(Booking.state == "open").order_by(Booking.booked_at).bind(db)
    )


def confirm_payment(
    db: peewee.Database,
    order_no: str,
    line_key: str,
    at: datetime,
    actor: str,
    *,
    other_amount: bool = False,
) -> None:
    """A person confirmed that this statement line paid this booking: a credit line of
    exactly the amount due, or (``other_amount``: a person chose it by hand, knowing)
    another credit. Who and when are kept with it."""
    with write_transaction(db):
        line = StatementLineRow.select().where(StatementLineRow.key == line_key).bind(db).first()
        if line is None:
            raise OrderError(N_("That statement line is not uploaded"))
        if line.amount <= 0:
            raise OrderError(N_("That statement line is not money in"))
        booking = Booking.select().where(Booking.order_no == order_no).bind(db).first()
        if booking is not None and line.amount != booking.due and not other_amount:
            raise OrderError(N_("The line's amount is not what {order} is due"), order=order_no)
        try:
            done = (
                Booking.update(
                    state="paid",
                    paid_line=line_key,
                    paid_amount=line.amount,
                    paid_at=_naive(at),
                    paid_by=actor[:100],
                )
                .where((Booking.order_no == order_no) & (Booking.state == "open"))
                .execute(db)
            )
        except peewee.IntegrityError:
            raise OrderError(N_("That statement line already paid another booking")) from None
        if done != 1:
            raise OrderError(N_("Booking {order} is not open"), order=order_no)


def paid_bookings(db: peewee.Database, desk: str) -> list[Booking]:
    """What the desk's terminal may sell: paid, not yet sold."""
    return list(
        Booking.select()
        .where((Booking.desk == desk) & (Booking.state == "paid"))
        .order_by(Booking.booked_at)
        .bind(db)
    )


def released_bookings(db: peewee.Database, desk: str, now: datetime) -> list[Booking]:
    """The desk's bookings released at their deadline in the last days (newest first):
    what CS tells the customers whose transfer did not come in time."""
    since = _naive(now) - timedelta(days=RECENT_DAYS)
    return list(
        Booking.select()
        .where(
            (Booking.desk == desk) & (Booking.state == "released") & (Booking.closed_at >= since)
        )
        .order_by(Booking.closed_at.desc())
        .limit(50)
        .bind(db)
    )


def sold(db: peewee.Database, order_no: str, sale_label: str, at: datetime, actor: str) -> None:
    """The terminal's sale of a paid booking: the unit leaves the stock."""
    with write_transaction(db):
        try:
            _sell(db, order_no, sale_label, at, actor)
        except LookupError:
            raise OrderError(N_("Booking {order} is not paid"), order=order_no) from None


def _sell(db, order_no: str, sale_label: str, at: datetime, actor: str, store: str = "") -> None:
    """A paid booking sold (of ``store``, when given): LookupError when it is not one."""
    booking = Booking.select().where(Booking.order_no == order_no).bind(db).first()
    if booking is None or (store and booking.desk != store):
        raise LookupError("unknown here")
    if not _transition(db, order_no, "paid", "sold", at, sale=sale_label):
        raise LookupError(f"{booking.state}, not paid")
    _shift(db, booking.sku, booking.desk, 1, BOOKED, "")
    _move(db, at, booking.sku, booking.desk, "sell", -1, BOOKED, "", order_no, actor)
    # sold: its shipment is due for an airway bill (a booking made before shipments
    # were kept gets one now, its courier for CS to choose)
    open_shipment(db, order_no, "", "", at)


def settle_sold(
    db: peewee.Database, order_no: str, sale_label: str, at: datetime, store: str = ""
) -> bool:
    """A terminal's sale paid a booking by bank transfer (its journal entry arrived): the
    booking is sold and its unit leaves the stock. Called inside the ingest's transaction
    in a savepoint of its own: whatever happens here (a booking not paid, not this
    store's, the database's refusal) is logged and the journal goes in all the same; the
    sale stands as the terminal made it. ``at``: UTC without a zone."""
    try:
        with db.atomic():
            _sell(db, order_no, sale_label, at.replace(tzinfo=UTC), sale_label, store)
    except Exception as exc:  # never the journal's failure
        log.warning("sale %s names booking %s: %s", sale_label, order_no[:40], exc)
        return False
    return True
