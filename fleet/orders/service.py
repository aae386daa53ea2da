"""The CS desks' calls to the central stock and bookings, over the fleet's broker.

A terminal in online-orders mode publishes an :class:`~terminal.core.fleet_protocol.
OrderRequest` on ``pos/v1/{tid}/up/orders/{id}``; this service (a shared subscription,
so several ``pos-fleet serve`` may answer) does it and answers on ``down/orders/{id}``.
The broker's ACLs let a terminal read only its own answers, and the fleet knows the desk
by the terminal: its store is the stock's location, its id the series of its booking
numbers. A desk cancels or reads only its own bookings. The customers' personal data
travels over the terminal's own TLS connection and is sealed at rest
(:mod:`fleet.orders.desk`).

:class:`OrderDesk` does the work (tested without a broker); :class:`OrderService` is its
MQTT side, on a thread of its own beside the ingest, so a flood of journal batches never
delays a customer on the phone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee

from fleet.db import write_transaction
from fleet.models import Booking, DropOrder, OrderCall, Shipment, Terminal
from fleet.orders import desk as orders
from fleet.server import BrokerSettings, service_client
from fleet.shipping import shipments
from fleet.shipping.awb import AwbWorker, Round
from terminal.core import fleet_protocol as fp
from terminal.core.couriers import postal_code
from terminal.core.errors import N_, PosError
from terminal.core.online_orders import DeadlineRule, parse_order_number
from terminal.core.sealing import Sealer

log = logging.getLogger(__name__)

TOPIC = "pos/v1/+/up/orders/+"
SHARE = "orders"
CHANGING = ("drop", "book", "cancel", "awb")  # done once per call id
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OrderDesk:
    def __init__(
        self,
        db: peewee.Database,
        sealer: Sealer,
        *,
        deadline: DeadlineRule,
        warehouses: tuple[str, ...] = ("WH",),
        codes: tuple[int, int] = (1, 999),
        clock: Clock = _utcnow,
        rng: Random | None = None,
        awb: AwbWorker | None = None,
    ) -> None:
        self.db, self.sealer = db, sealer
        self.deadline, self.warehouses, self.codes = deadline, warehouses, codes
        self.clock = clock
        self.rng = rng or Random()
        # the courier's API asked for airway bills (None: CS types them): with one, a
        # booking's address must carry the customer's postal code
        self.awb = awb

    def handle(
        self, terminal_id: str, request: fp.OrderRequest, call_id: str = ""
    ) -> fp.OrderReply:
        """Do what the desk asks; a refusal is an answer too (never an exception). A call
        that changes something is done once per ``call_id``: asked again, it gets the
        answer it got (kept sealed with the change, in one transaction)."""
        if not call_id or request.op not in CHANGING:
            return self._handle(terminal_id, request)
        where = f"{terminal_id}/{call_id}"
        try:
            with write_transaction(self.db):
                done = (
                    OrderCall.select(OrderCall.reply)
                    .where((OrderCall.terminal_id == terminal_id) & (OrderCall.call_id == call_id))
                    .bind(self.db)
                    .first()
                )
                if done is not None:
                    text = self.sealer.open("order_call", "reply", where, bytes(done.reply))
                    return fp.decode("down/orders", text.encode())
                reply = self._handle(terminal_id, request)
                sealed = self.sealer.seal("order_call", "reply", where, fp.encode(reply).decode())
                OrderCall.insert(
                    terminal_id=terminal_id,
                    call_id=call_id,
                    reply=sealed,
                    at=self.clock().astimezone(UTC).replace(tzinfo=None),
                ).execute(self.db)
                return reply
        except Exception:
            log.exception("online orders: %s from %s not kept", request.op, terminal_id)
            return fp.OrderReply(ok=False, error=N_("The fleet could not do it: try again"))

    def _handle(self, terminal_id: str, request: fp.OrderRequest) -> fp.OrderReply:
        try:
            terminal = Terminal.select().where(Terminal.id == terminal_id).bind(self.db).first()
            if terminal is None:
                raise PosError(N_("This terminal is not registered with the fleet"))
            return getattr(self, f"_{request.op}")(terminal, request)
        except PosError as exc:
            params = {k: str(v)[:200] for k, v in exc.params.items()}
            return fp.OrderReply(ok=False, error=exc.msgid, params=params)
        except Exception as exc:
            log.exception("online orders: %s from %s failed", request.op, terminal_id)
            if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
                self.db.close()  # the next call connects again (the database came back)
            return fp.OrderReply(ok=False, error=N_("The fleet could not do it: try again"))

    def release(self) -> list[str]:
        """Bookings past their deadline back to available stock (the service's loop);
        the answers kept for calls asked again are dropped after two days."""
        now = self.clock()
        OrderCall.delete().where(
            OrderCall.at < now.astimezone(UTC).replace(tzinfo=None) - timedelta(days=2)
        ).execute(self.db)
        return orders.release_expired(self.db, now)

    def ship(self) -> Round | None:
        """Sold bookings' airway bills asked of the courier (the service's loop); None
        when no courier API is configured."""
        return self.awb.run() if self.awb is not None else None

    # -- the operations -------------------------------------------------------------------
    def _stock(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        levels = []
        for location in (terminal.store, *self.warehouses):
            available, booked, unavailable = orders.stock(self.db, request.sku, location)
            levels.append(fp.StockLevel(location, available, booked, unavailable))
        return fp.OrderReply(ok=True, stock=levels)

    def _drop(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        _need(request.sku, "sku")
        drop = orders.request_drop(
            self.db, terminal.store, self.warehouses[0], request.sku, self.clock(), terminal.id
        )
        return fp.OrderReply(ok=True, drop_order=drop)

    def _book(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        _need(request.sku, "sku")
        _need(request.name.strip(), "name")
        _need(request.address.strip(), "address")
        if request.price <= 0:
            raise PosError(N_("A booking needs the item's price"))
        if request.drop_order is not None:
            drop = (
                DropOrder.select().where(DropOrder.id == request.drop_order).bind(self.db).first()
            )
            if drop is None or (drop.desk, drop.state, drop.sku) != (
                terminal.store,
                "handed",
                request.sku,
            ):
                raise PosError(
                    N_("Drop order {id} did not bring this item here"), id=request.drop_order
                )
        if self.awb is not None and request.courier and not postal_code(request.address):
            raise PosError(N_("The address needs the customer's postal code (5 digits)"))
        rules = orders.DeskRules(self.deadline, _zone(terminal), *self.codes)
        customer = orders.Customer(request.name.strip(), request.phone.strip(), request.address)
        booking = orders.book(
            self.db,
            self.sealer,
            desk=terminal.store,
            sku=request.sku,
            price=request.price,
            customer=customer,
            rules=rules,
            at=self.clock(),
            actor=terminal.id,
            rng=self.rng,
            drop_order=request.drop_order,
            series=terminal.id,
            courier=request.courier,
            service=request.service,
        )
        return fp.OrderReply(ok=True, booking=self._info(booking))

    def _find(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        self._own(terminal, request.order)
        booking = orders.find(self.db, request.order, self.clock())
        return fp.OrderReply(ok=True, booking=self._info(booking))

    def _cancel(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        self._own(terminal, request.order)
        booking = orders.cancel(self.db, request.order, self.clock(), terminal.id)
        return fp.OrderReply(ok=True, booking=self._info(booking, state="cancelled"))

    def _paid(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        paid = orders.paid_bookings(self.db, terminal.store)
        return fp.OrderReply(ok=True, bookings=[self._info(b) for b in paid])

    def _released(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        released = orders.released_bookings(self.db, terminal.store, self.clock())
        return fp.OrderReply(ok=True, bookings=[self._info(b) for b in released])

    def _awb(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        """CS typed the airway bill from the courier's slip (a sold booking's)."""
        self._own(terminal, request.order)
        order = request.order.strip().upper()
        booking = Booking.select().where(Booking.order_no == order).bind(self.db).get()
        if booking.state != "sold":
            raise PosError(N_("Booking {order} is not sold yet"), order=order)
        shipments.type_awb(self.db, order, request.courier, request.awb, self.clock(), terminal.id)
        return fp.OrderReply(ok=True, booking=self._info(booking))

    def _shipping(self, terminal: Terminal, request: fp.OrderRequest) -> fp.OrderReply:
        """The desk's sold bookings still without an airway bill."""
        rows = shipments.waiting(self.db, terminal.store)
        return fp.OrderReply(ok=True, bookings=[self._info(r.booking, shipment=r) for r in rows])

    # -- helpers --------------------------------------------------------------------------
    def _own(self, terminal: Terminal, order: str) -> None:
        """Another desk's booking is answered as an unknown number: nothing of its state
        (cancelled, sold...) is told to a desk it does not belong to."""
        parse_order_number(order)
        booking = (
            Booking.select(Booking.desk)
            .where(Booking.order_no == order.strip().upper())
            .bind(self.db)
            .first()
        )
        if booking is None or booking.desk != terminal.store:
            raise PosError(N_("{code} is not a booking number"), code=order.strip()[:40])

    def _info(
        self, booking: Booking, state: str = "", shipment: Shipment | None = None
    ) -> fp.BookingInfo:
        customer = orders.customer_of(self.sealer, booking)
        if shipment is None:
            shipment = (
                Shipment.select().where(Shipment.order_no == booking.order_no).bind(self.db).first()
            ) or Shipment(awb_state="")
        return fp.BookingInfo(
            order=booking.order_no,
            sku=booking.sku,
            price=booking.price,
            code=booking.unique_code,
            due=booking.due,
            deadline=booking.deadline.replace(tzinfo=UTC).isoformat(),
            state=state or booking.state,
            name=customer.name,
            phone=customer.phone,
            address=customer.address,
            courier=shipment.courier or "",
            service=shipment.service or "",
            awb=shipment.awb or "",
            awb_state=shipment.awb_state or "",
            awb_error=(shipment.awb_error or "")[:200],
        )


def _need(value: str, what: str) -> None:
    if not value:
        raise PosError(N_("A booking request without its {what}"), what=what)


def _zone(terminal: Terminal) -> ZoneInfo:
    try:
        return ZoneInfo(terminal.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class OrderService:
    """The desk's MQTT side: a paho client (MQTT 5, mutual TLS) and a worker thread."""

    def __init__(
        self,
        desk: OrderDesk,
        broker: BrokerSettings,
        *,
        share: str = SHARE,
        release_seconds: float = 0,
    ) -> None:
        self.desk = desk
        self.release_seconds = release_seconds  # bookings past their deadline: released
        self.broker = broker
        self.share = share
        self.answered = 0
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._worker: threading.Thread | None = None
        self._shipper: threading.Thread | None = None
        client = service_client(broker, f"{broker.client_id}-orders")
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_a: self._ready.set()
        client.on_message = lambda _c, _u, m: self._inbox.put((m.topic, bytes(m.payload)))
        self.client = client

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            log.error("the broker refused the online-orders service: %s", reason)
            return
        client.subscribe(f"$share/{self.share}/{TOPIC}", qos=1)

    def _work(self) -> None:
        next_release = 0.0
        while not self._stop.is_set():
            if self.release_seconds and time.monotonic() >= next_release:
                next_release = time.monotonic() + self.release_seconds
                try:
                    released = self.desk.release()
                    if released:
                        log.info("online orders: released at their deadline: %s", released)
                except Exception:  # the database away: the next round tries again
                    log.exception("online orders: releasing past deadlines failed")
            try:
                topic, payload = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.take(topic, payload)
            except Exception:  # the thread outlives any one call (and the releases with it)
                log.exception("online orders: a call on %s failed", topic[:80])

    def take(self, topic: str, payload: bytes) -> None:
        """One call: its answer published (a malformed call gets a refusal when its
        topic names who asked; else it is logged and dropped)."""
        try:
            terminal_id, kind, call_id = fp.parse_job_topic(topic)
        except fp.BadMessage as exc:
            log.warning("online orders: ignored %s", exc)
            return
        if kind != "up/orders" or call_id is None:
            return
        try:
            request = fp.decode("up/orders", payload)
        except ValueError as exc:
            log.warning("online orders: a malformed call from %s: %s", terminal_id, exc)
            reply = fp.OrderReply(ok=False, error=N_("The fleet could not read the request"))
        else:
            reply = self.desk.handle(terminal_id, request, call_id)
        self.client.publish(fp.topic(terminal_id, "down/orders", call_id), fp.encode(reply), qos=1)
        self.answered += 1

    def _ship(self) -> None:
        """The airway bills, on a thread of their own: a courier that does not answer
        (each call waits up to its timeout) never keeps a desk's call waiting."""
        while not self._stop.wait(self.release_seconds):
            try:
                shipped = self.desk.ship()
                if shipped is not None and (shipped.made or shipped.failed or shipped.unsure):
                    log.info("online orders: airway bills: %s", shipped)
            except Exception:  # the sale stands; the shipment waits for the next round
                log.exception("online orders: asking for airway bills failed")

    def start(self, timeout: float = 10.0) -> bool:
        self._worker = threading.Thread(target=self._work, name="orders", daemon=True)
        self._worker.start()
        if self.release_seconds and self.desk.awb is not None:
            self._shipper = threading.Thread(target=self._ship, name="orders-awb", daemon=True)
            self._shipper.start()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        if self._worker is not None:
            self._worker.join(5)
        if self._shipper is not None:
            self._shipper.join(5)
