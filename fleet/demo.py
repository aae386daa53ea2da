"""A demo fleet: a week of plausible trading from simulated terminals, for the console.

``pos-fleet demo`` (and the console's tests) call :func:`fill`. Each simulated terminal
is the terminal's own store on an in-memory SQLite database (its schema, its signed
journal, ``terminal.store.journal.Journal``), and everything in it is made by the
terminal's own code, as its services do at the till:

- sales: random demo products (``terminal.services.demo.demo_products``, weighed goods
  through their scale labels) in the terminal's :class:`~terminal.core.cart.Cart` with
  the week's promotions, its tax and tender rules (cash with cash rounding and change,
  or card with the card terminal's receipt number), committed by
  ``terminal.store.sales.commit_sale``;
- refunds: a line of an earlier sale of the day, planned and split between its tenders
  by ``terminal.core.refunds``, committed by ``terminal.store.refunds.commit_refund``;
- voids: a line scanned and voided before payment (the ``line_void`` entry the POS
  service journals);
- shifts: two a day per terminal, with an opening float and a blind count at the close
  (its expected cash from ``terminal.core.reconcile``, as ``Shifts.close`` computes it);
- a Z report each evening, its figures built by ``terminal.core.reconcile.build_figures``
  over the entries since the last Z and numbered as ``Shifts.z_report`` numbers it;
- deliveries: the first terminal of each store receives every product before opening on
  the first day and again on the fifth (a supervisor's ``receiving`` entry, as
  ``Receiving.receive`` journals it), quantities and costs fixed per product (not drawn
  from the seed's stream, so the sales are the same with or without them); each store's
  products then have a minimum of :data:`MINIMUM` pieces, so the Stock page has its
  costs, its values and a few products running low.

Every entry reaches the fleet through :meth:`fleet.ingest.Ingest.raw`, as the agent's
batches do (no broker), so the entries, the central tables and the rollups agree and
each journal verifies (``pos-fleet verify T01``).

The trading days are the ``days`` whole days before ``now`` (the stores' local days) and
today up to ``now``, so "Sales now" has today and the same weekday a week earlier. Opening
hours 08:00-21:00 (Asia/Jakarta), busier at lunch and in the evening and at weekends.

Deterministic for a seed: one :class:`random.Random` makes every choice, the journal keys
included (a demo's keys are derived from its seed: never use them for a real terminal),
and the times come from ``now``.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import peewee
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.ingest import Ingest
from fleet.inventory import set_minimum
from fleet.registry import get_terminal, register_terminal
from terminal.config import Settings, parse_settings
from terminal.core import fleet_protocol as fp
from terminal.core.cart import Cart
from terminal.core.catalogue import Catalogue, Product
from terminal.core.money import Currency
from terminal.core.reconcile import Figures, build_figures
from terminal.core.refunds import REFUND_REASONS, plan_refund, refund_money
from terminal.core.sale import CommittedSale, sale_from_cart
from terminal.core.taxes import summarize
from terminal.core.tender import (
    CardDetails,
    Payment,
    Tender,
    cash_payable,
    finish_with_cash,
    finish_without_cash,
    quick_tenders,
)
from terminal.services.demo import demo_products, demo_promotions, weighed_barcode
from terminal.store.catalogue_repo import save_products
from terminal.store.counters import next_number
from terminal.store.db import open_database
from terminal.store.journal import Journal, read_entries, shift_first_seq
from terminal.store.models import CashierRow
from terminal.store.refunds import commit_refund, find_sale_id, load_sale
from terminal.store.sales import commit_sale
from terminal.store.sealing import Sealer
from terminal.store.shifts import close_shift, open_shift

TIMEZONE = "Asia/Jakarta"
GROUP = "demo"
SOFTWARE = "demo"
STORE_NAMES = (
    "Toko Sumber Rejeki",
    "Minimarket Sinar Jaya",
    "Warung Berkah Abadi",
    "Toko Makmur Sentosa",
    "Swalayan Cahaya Baru",
    "Toko Maju Bersama",
    "Minimarket Harapan Indah",
    "Toko Lancar Jaya",
)
# the demo shop's own document (the terminal's config/pos.toml, its shop sections)
SHOP = {
    "store": {
        "name": "Toko Demo",
        "currency": "IDR",
        "locale": "id",
        "timezone": TIMEZONE,
        "prices_include_tax": True,
        "cash_rounding": 100,
    },
    "taxes": {
        "PPN": {"name": "PPN 11%", "rates": [{"code": "PPN", "name": "PPN", "rate": "11"}]},
        "PPN_PB1": {
            "name": "PPN 11% + PB1 10%",
            "rates": [
                {"code": "PPN", "name": "PPN", "rate": "11"},
                {"code": "PB1", "name": "PB1", "rate": "10"},
            ],
        },
        "EXEMPT": {"name": "Bebas pajak", "rates": []},
    },
    "weighed_barcodes": [{"prefix": "21", "kind": "price"}, {"prefix": "22", "kind": "weight"}],
}
SUPERVISOR = (2, "Budi")  # closes the day (the Z report) and approves refunds
CASHIERS = ((1, "Sari"), (3, "Wati"), (4, "Agus"), (5, "Dewi"), (6, "Rina"), (7, "Joko"))
OPENING_FLOAT = 200_000
# (opens, closes) of the two shifts, local time; sales from 08:00 to 21:00
SHIFTS = ((time(7, 45), time(14, 30)), (time(14, 35), time(21, 10)))
Z_AT = time(21, 15)
HOUR_WEIGHTS = {
    8: 3, 9: 4, 10: 5, 11: 8, 12: 11, 13: 8, 14: 4,
    15: 4, 16: 5, 17: 8, 18: 11, 19: 10, 20: 5,
}  # fmt: skip
WEEKEND = 1.25  # Saturdays and Sundays are busier
CARD_SHARE = 0.35  # of sales paid by card (more of the larger ones)
REFUND_SHARE = 0.02  # of the events of a day, after its first few sales
VOID_SHARE = 0.05  # of sales, a line voided before payment
BATCH = 200  # entries per journal batch, as the agent sends them
DELIVERY_AT = time(7, 30)  # before the first shift
DELIVERY_DAYS = (0, 4)  # the first day, and four days later
MINIMUM = 30  # pieces of each product a demo store should hold


def demo_settings(terminal_id: str = "T01") -> Settings:
    """The demo shop's settings (Indonesia: IDR, PPN, cash rounding to Rp 100)."""
    return parse_settings({"terminal": {"id": terminal_id}, **SHOP})


@dataclass(frozen=True)
class DemoResult:
    """What :func:`fill` made: per terminal, its store and its journal's head."""

    terminals: dict[str, str]  # terminal id: store
    heads: dict[str, int]  # terminal id: the last seq the fleet acknowledged
    sales: int
    refunds: int
    voids: int
    z_reports: int
    first_day: date
    last_day: date


@dataclass
class SimTerminal:
    """One terminal's store (in memory) and journal, driven as its services drive them."""

    terminal_id: str
    rng: random.Random
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = demo_settings(self.terminal_id)
        self.db = open_database(":memory:", check=False)
        key = Ed25519PrivateKey.from_private_bytes(self.rng.randbytes(32))
        self.journal = Journal(self.db, self.terminal_id, key)
        self.sealer = Sealer(self.rng.randbytes(32))
        self.products = demo_products()
        save_products(self.db, self.products)
        self.catalogue = Catalogue(
            self.products, self.settings.tax_classes, self.settings.weighed_formats
        )
        for number, name in (SUPERVISOR, *CASHIERS):
            role = "supervisor" if number == SUPERVISOR[0] else "cashier"
            # no PIN: nobody signs in to a simulated terminal
            CashierRow.insert(id=number, name=name, role=role, pin_hash="").execute(self.db)
        self.shift: int | None = None
        self.cashier: tuple[int, str] = CASHIERS[0]
        self.sales: list[CommittedSale] = []  # today's, for refunds
        self.card_receipts = 0  # the card terminal's receipt numbers
        self.sent_to = 0
        self.counts = {"sales": 0, "refunds": 0, "voids": 0, "z_reports": 0}

    @property
    def public_key_pem(self) -> bytes:
        return self.journal.public_key_pem()

    @property
    def currency(self) -> Currency:
        return self.settings.store.currency

    # -- at the till ------------------------------------------------------------------------
    def _cart(self, at: datetime, promotions: tuple) -> Cart:
        return Cart(
            self.catalogue,
            lambda: at,
            prices_include_tax=self.settings.store.prices_include_tax,
            promotions=promotions,
        )

    def _scan(self, cart: Cart, product: Product) -> None:
        if product.sold_by_weight:  # a scale label: its weight in grams
            grams = self.rng.choice((250, 350, 500, 750, 1000, 1250, 1500)) + self.rng.randrange(50)
            cart.add_code(weighed_barcode("22", product.plu, grams))
            return
        cart.add_code(product.sku)
        if self.rng.random() < 0.2:
            cart.set_quantity(len(cart.lines) - 1, str(self.rng.choice((2, 2, 3, 4, 6))))

    def _product(self) -> Product:
        """Cheap everyday goods more often than the rest."""
        weights = [1.0 / (p.price**0.5) for p in self.products]
        return self.rng.choices(self.products, weights)[0]

    def sell(self, at: datetime, promotions: tuple) -> CommittedSale:
        rng = self.rng
        cart = self._cart(at, promotions)
        if rng.random() < VOID_SHARE:
            self._void(cart, at - timedelta(seconds=rng.randrange(20, 60)))
        for _ in range(rng.choices(range(1, 9), (20, 22, 18, 13, 10, 7, 5, 5))[0]):
            self._scan(cart, self._product())
        payment = self._payment(cart.total)
        cashier_id, name = self.cashier
        sale = sale_from_cart(
            cart,
            payment,
            terminal_id=self.terminal_id,
            cashier_id=cashier_id,
            cashier_name=name,
            currency=self.currency.code,
            created_at=at,
            shift_id=self.shift,
        )
        committed = commit_sale(self.db, sale, self.journal, sealer=self.sealer)
        self.sales.append(committed)
        self.counts["sales"] += 1
        return committed

    def _payment(self, total: int) -> Payment:
        rng = self.rng
        if rng.random() < CARD_SHARE * (1.6 if total > 100_000 else 1.0):
            self.card_receipts += 1
            card = CardDetails(
                masked_pan=f"4{rng.randrange(10**5):05d}******{rng.randrange(10**4):04d}",
                auth_code=f"{rng.randrange(10**6):06d}",
                trace_number=self.card_receipts,
                receipt_number=self.card_receipts,
                card_terminal_id="52500001",
            )
            return finish_without_cash(total, (Tender("card", total, card=card),))
        rounding = self.settings.store.cash_rounding
        payable = cash_payable(total, rounding)
        tendered = rng.choice([payable, *quick_tenders(payable, self.currency)])
        return finish_with_cash(total, (), tendered, self.currency, rounding)

    def _void(self, cart: Cart, at: datetime) -> None:
        """A line scanned and voided before payment, journaled as the POS service does."""
        product = self._product()
        self._scan(cart, product)
        line = cart.lines[-1]
        payload = {
            "cashier": self.cashier[0],
            "shift": self.shift,
            "sku": line.product.sku,
            "quantity": str(line.quantity),
            "amount": line.amount,
            "reason": self.rng.choice(("mistake", "changed_mind", "wrong_price", "damaged")),
            "late": False,
            "seconds": float(self.rng.randrange(3, 25)),
        }
        with self.db.atomic():
            self.journal.append("line_void", payload, at)
            cart.remove(len(cart.lines) - 1)
        self.counts["voids"] += 1

    def refund(self, at: datetime) -> None:
        """A line of one of today's sales brought back (approved by the supervisor)."""
        if not self.sales:
            return
        rng = self.rng
        committed = rng.choice(self.sales)
        paid = load_sale(self.db, find_sale_id(self.db, self.terminal_id, number=committed.number))
        left = [line for line in paid.lines if line.refundable_quantity > 0]
        if not left:
            return
        line = rng.choice(left)
        quantity = line.refundable_quantity if line.by_weight else Decimal(1)
        lines = plan_refund(paid.lines, [(line.position, quantity, rng.random() < 0.6)])
        amount = sum(r.amount for r in lines)
        refunded_before = sum(s.refunded_amount for s in paid.lines)
        lines_total = sum(s.amount for s in paid.lines)
        split, points_returned = refund_money(
            amount,
            paid.tenders,
            lines_total=lines_total,
            lines_refunded=refunded_before,
            completes=refunded_before + amount == lines_total,
            points_spent=paid.points_spent,
            point_value=self.settings.loyalty.point_value,
            cash_step=self.settings.store.cash_rounding,
        )
        receipts: dict[str, int | None] = {}
        if split.get("card"):
            self.card_receipts += 1
            receipts["card"] = self.card_receipts
        classes = self.settings.tax_classes
        taxes = summarize(
            ((classes[r.line.tax_class], r.amount) for r in lines if r.line.tax_class in classes),
            prices_include_tax=self.settings.store.prices_include_tax,
        )
        commit_refund(
            self.db,
            self.journal,
            terminal_id=self.terminal_id,
            sale=paid,
            lines=lines,
            tenders=split,
            card_receipts=receipts,
            card_payment_ids=[],
            cashier_id=self.cashier[0],
            shift_id=self.shift,
            reason=rng.choice(sorted(REFUND_REASONS)),
            approved_by=SUPERVISOR[0],
            points_back=0,
            points_returned=points_returned,
            taxes=[
                {"code": r.tax.code, "rate": str(r.tax.rate), "base": r.base, "amount": r.amount}
                for r in taxes.per_rate
            ],
            at=at,
        )
        self.counts["refunds"] += 1

    # -- shifts and the day's close -----------------------------------------------------------
    def _figures(self, since: int) -> Figures:
        store = self.settings.store
        return build_figures(
            read_entries(self.db, since=since),
            store.timezone,
            prices_include_tax=store.prices_include_tax,
        )

    def receive(self, at: datetime, first: bool) -> None:
        """A delivery of every product (see the module): per product, a quantity and a
        cost below its price before tax, both fixed by its SKU."""
        lines, value = [], 0
        for product in self.products:
            spread = zlib.crc32(product.sku.encode())
            if product.sold_by_weight:
                quantity = 40 if first else 25  # kg
            else:  # as the sales go: cheap goods more (see _product), in cases of 12
                cases = (16_000 if first else 4_000) / product.price**0.5 / 12
                quantity = 12 * max(1, round(cases))
            before_tax = Decimal(product.price) / (
                Decimal("1.11") if product.tax_class != "EXEMPT" else 1
            )
            share = Decimal(62 + spread % 17) / 100
            unit_cost = int((before_tax * share / 10).to_integral_value()) * 10
            lines.append({"sku": product.sku, "quantity": str(quantity), "unit_cost": unit_cost})
            value += quantity * unit_cost
        payload = {
            "cashier": SUPERVISOR[0],
            "supplier": "PT Distribusi Nusantara",
            "note": "",
            "lines": lines,
            "value": value,
        }
        self.journal.append("receiving", payload, at)

    def open_shift(self, at: datetime, cashier: tuple[int, str]) -> None:
        self.cashier = cashier
        with self.db.atomic():
            shift = open_shift(self.db, self.terminal_id, cashier[0], OPENING_FLOAT, at)
            self.journal.append(
                "shift_open", {"shift": shift.id, "cashier": cashier[0], "float": OPENING_FLOAT}, at
            )
        self.shift = shift.id

    def close_shift(self, at: datetime) -> None:
        """The blind count: mostly right, now and then a little short or over."""
        assert self.shift is not None
        since = shift_first_seq(self.db, self.shift)
        takings = self._figures(since).expected_cash - OPENING_FLOAT
        if takings >= 500_000:  # the notes to the safe, as Shifts.cash_move journals it
            amount = takings // 100_000 * 100_000
            payload = {"shift": self.shift, "cashier": self.cashier[0], "amount": amount}
            self.journal.append("cash_out", {**payload, "reason": "to_safe"}, at)
            at += timedelta(minutes=1)
        expected = self._figures(since).expected_cash
        off = self.rng.choices((0, -500, -1000, 200, -2000), (80, 8, 5, 5, 2))[0]
        counts = self._count(max(0, expected + off))
        counted = sum(value * n for value, n in counts.items())
        with self.db.atomic():
            close_shift(self.db, self.shift, at, expected, counted, counts)
            self.journal.append(
                "shift_close",
                {
                    "shift": self.shift,
                    "cashier": self.cashier[0],
                    "expected": expected,
                    "counted": counted,
                    "variance": counted - expected,
                    "counts": {str(k): v for k, v in sorted(counts.items())},
                },
                at,
            )
        self.shift = None

    def _count(self, amount: int) -> dict[int, int]:
        counts = {}
        for value in sorted(self.currency.denominations, reverse=True):
            counts[value], amount = divmod(amount, value)
        return {value: n for value, n in counts.items() if n}

    def z_report(self, at: datetime) -> None:
        """Everything since the last Z, numbered and signed (the supervisor's)."""
        last = 0
        for entry in read_entries(self.db, types=("z_report",)):
            last = entry["payload"]["last_seq"]
        report = self._figures(last + 1)
        with self.db.atomic("IMMEDIATE"):
            number = next_number(self.db.cursor(), f"{self.terminal_id}:Z")
            payload = {"z_number": number, "cashier": SUPERVISOR[0], **report.to_payload()}
            self.journal.append("z_report", payload, at)
        self.counts["z_reports"] += 1
        self.sales.clear()

    # -- to the fleet -------------------------------------------------------------------------
    def unsent_batches(self, size: int = BATCH) -> list[bytes]:
        """The entries after the last sent, as the agent encodes its batches."""
        entries = [
            fp.Entry(**{name: e[name] for name in fp.Entry.__struct_fields__})
            for e in read_entries(self.db, decode=False, since=self.sent_to + 1)
        ]
        if not entries:
            return []
        head = entries[-1].seq
        self.sent_to = head
        return [
            fp.encode(fp.JournalBatch(self.terminal_id, entries[i : i + size], head=head))
            for i in range(0, len(entries), size)
        ]

    def close(self) -> None:
        self.db.close()


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tz).astimezone(UTC)


def _day_events(
    rng: random.Random, day: date, tz: ZoneInfo, sales: int
) -> list[tuple[datetime, str]]:
    """A day's trading at one terminal: (when, what), in order, at least 90 s apart."""
    weekend = day.weekday() >= 5
    count = max(1, round(sales * (WEEKEND if weekend else 1.0) * rng.uniform(0.85, 1.15)))
    hours = rng.choices(list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values()), k=count)
    gap = (SHIFTS[0][1], SHIFTS[1][0])
    moments = []
    for hour in hours:
        while True:
            at = time(hour, rng.randrange(60), rng.randrange(60))
            if not (gap[0] <= at < gap[1]):
                break
        moments.append(datetime.combine(day, at, tz))
    moments.sort()
    events: list[tuple[datetime, str]] = []
    last = datetime.combine(day, time(8, 0), tz) - timedelta(seconds=90)
    for moment in moments:
        moment = max(moment, last + timedelta(seconds=90))
        if gap[0] <= moment.time() < gap[1]:
            moment = datetime.combine(day, gap[1], tz) + timedelta(seconds=90)
        if moment.time() >= SHIFTS[1][1]:
            break
        last = moment
        sold = sum(kind == "sale" for _at, kind in events)
        kind = "refund" if sold >= 3 and rng.random() < REFUND_SHARE else "sale"
        events.append((moment.astimezone(UTC), kind))
    for number, (opens, closes) in enumerate(SHIFTS):
        events.append((_local(day, opens, tz), f"open:{number}"))
        events.append((_local(day, closes, tz), "close"))
    events.append((_local(day, Z_AT, tz), "z"))
    return sorted(events)


def fill(
    db: peewee.Database,
    *,
    stores: int = 3,
    terminals_per_store: int = 2,
    days: int = 7,
    sales_per_day: int = 60,
    seed: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Register ``stores`` x ``terminals_per_store`` simulated terminals (T01, T02, ...;
    group ``demo``) and send the fleet their journals: ``days`` whole days of trading
    before ``now`` and today's up to ``now``, about ``sales_per_day`` sales a terminal a
    day. ValueError when a terminal of these ids is registered already (a second demo
    in the same database would send other entries for the same seqs)."""
    if not 1 <= stores <= len(STORE_NAMES):
        raise ValueError(f"stores: 1 to {len(STORE_NAMES)}")
    if not 1 <= terminals_per_store <= 9 or days < 0 or sales_per_day < 1:
        raise ValueError("terminals per store: 1 to 9; days: 0 or more; sales a day: 1 or more")
    now = now or datetime.now(UTC)
    now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)  # naive: UTC
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days)
    ids = [f"T{n:02d}" for n in range(1, stores * terminals_per_store + 1)]
    taken = [tid for tid in ids if get_terminal(db, tid) is not None]
    if taken:
        raise ValueError(
            f"{', '.join(taken)} registered already: the demo fills a fresh fleet database"
        )
    ingest = Ingest(db, clock=lambda: now)
    made: dict[str, str] = {}
    heads: dict[str, int] = {}
    totals = {"sales": 0, "refunds": 0, "voids": 0, "z_reports": 0}
    for index, tid in enumerate(ids):
        store = STORE_NAMES[index // terminals_per_store]
        term = SimTerminal(tid, random.Random(rng.getrandbits(64)))
        register_terminal(
            db,
            tid,
            store=store,
            group=GROUP,
            public_key_pem=term.public_key_pem,
            timezone=TIMEZONE,
            clock=lambda: now,
        )
        cashiers = CASHIERS[(2 * index) % len(CASHIERS) :][:2]
        try:
            for offset in range((today - first).days + 1):
                day = first + timedelta(days=offset)
                if index % terminals_per_store == 0 and offset in DELIVERY_DAYS:
                    delivered = _local(day, DELIVERY_AT, tz)
                    if delivered <= now:
                        term.receive(delivered, first=offset == 0)
                _trade(term, day, tz, sales_per_day, cashiers, now)
                _send(ingest, term)
            heads[tid] = term.sent_to
            state = fp.State("online", 1, SOFTWARE, ts=now.isoformat())
            ingest.raw(fp.topic(tid, "state"), fp.encode(state))
            for name, count in term.counts.items():
                totals[name] += count
        finally:
            term.close()
        made[tid] = store
        if progress:
            progress(f"{tid} ({store}): {term.counts['sales']} sales, journal to seq {heads[tid]}")
    for store in sorted(set(made.values())):
        for product in demo_products():
            if not product.sold_by_weight:
                set_minimum(
                    db, store, product.sku, MINIMUM * 1000, "demo", now.replace(tzinfo=None)
                )
    return DemoResult(made, heads, first_day=first, last_day=today, **totals)


def _trade(
    term: SimTerminal,
    day: date,
    tz: ZoneInfo,
    sales: int,
    cashiers: tuple[tuple[int, str], ...],
    now: datetime,
) -> None:
    """One day of the terminal, up to ``now``."""
    promotions = tuple(demo_promotions(datetime.combine(day, time(0, 0), tz)))
    for at, kind in _day_events(term.rng, day, tz, sales):
        if at > now:
            return
        if kind.startswith("open:"):
            term.open_shift(at, cashiers[int(kind[5:]) % len(cashiers)])
        elif kind == "close":
            term.close_shift(at)
        elif kind == "z":
            term.z_report(at)
        elif kind == "refund":
            term.refund(at)
        else:
            term.sell(at, promotions)


def _send(ingest: Ingest, term: SimTerminal) -> None:
    """The terminal's new entries through the ingest, as the agent sends them; each
    batch must be acknowledged whole."""
    for data in term.unsent_batches():
        ack = ingest.raw(fp.topic(term.terminal_id, "up/journal"), data)
        head = fp.decode("up/journal", data).entries[-1].seq
        if not isinstance(ack, fp.Ack) or ack.acked != head or ack.resend_from is not None:
            raise RuntimeError(f"{term.terminal_id}: the fleet did not take the demo batch: {ack}")
