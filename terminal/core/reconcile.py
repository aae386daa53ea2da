"""What the X, shift and Z reports say, from the journal's entries, and the checks an
accountant makes on it.

A report must reconcile on its face: every total it prints is the sum of lines printed
with it. The figures (money in minor units; prices including tax, as the shops of
Indonesia, Mongolia and China price):

- **gross sales**: the goods at the prices of the sale (promotions are prices) before
  the cashiers' discounts; **discounts**: what cashiers took off; **refunds**: the
  goods' value given back (the refunded lines' paid amounts);
  ``net sales = gross sales - discounts - refunds``;
- **tax** per rate on the same basis as net sales: the sales' tax less the refunds'
  tax; ``net sales = net sales before tax + tax`` (tax included in the prices);
- per **tender**: taken by sales, refunded, ``net = taken - refunded``; **cash
  rounding** is what rounding the cash part added to the sales' totals less what the
  refunds' rounding gave back beyond the goods' value, so
  ``payments net = net sales + cash rounding``;
- per **drawer** (one per shift): ``expected = opening float + cash net + cash in -
  cash out``; the blind count by denomination; ``variance = counted - expected``;
- **events** counted: voids (and late ones), cancelled orders, no-sale opens, receipt
  reprints, discount overrides.

Entries are dicts with ``seq``, ``type``, ``ts`` (ISO, UTC) and ``payload``, as
``terminal.store.journal.read_entries`` gives them, so an exported journal gives the
same figures on another machine (the fleet's reports are rebuilt this way).
:func:`checks` re-derives each total another way, from other fields of the entries
(the tenders against the sales' totals, the tax rates against the sales' tax, the
drawer against what the shift's close recorded) and says where they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo


@dataclass
class TenderTotals:
    taken: int = 0  # by sales
    refunded: int = 0  # given back by refunds

    @property
    def net(self) -> int:
        return self.taken - self.refunded


@dataclass
class RateTotals:
    """One tax rate: what the sales carried and what the refunds took back."""

    code: str
    rate: str  # as configured: "11", "10"
    sales_base: int = 0
    sales_tax: int = 0
    refunds_base: int = 0
    refunds_tax: int = 0

    @property
    def base(self) -> int:
        """The base on net sales (sales less refunds)."""
        return self.sales_base - self.refunds_base

    @property
    def tax(self) -> int:
        """The tax on net sales (sales less refunds)."""
        return self.sales_tax - self.refunds_tax


@dataclass
class Drawer:
    """One shift's cash: from the opening float to the blind count at its close."""

    shift: int | None
    cashier: int | None = None
    opening_float: int = 0
    cash_taken: int = 0  # the cash tenders of the shift's sales (after cash rounding)
    cash_refunded: int = 0  # the cash the shift's refunds gave back
    cash_in: dict[str, int] = field(default_factory=dict)  # by reason
    cash_out: dict[str, int] = field(default_factory=dict)  # by reason
    closed: bool = False
    counts: dict[int, int] = field(default_factory=dict)  # the blind count: value -> count
    recorded_counted: int | None = None  # what the close recorded
    recorded_expected: int | None = None
    recorded_variance: int | None = None

    @property
    def cash_net(self) -> int:
        return self.cash_taken - self.cash_refunded

    @property
    def cash_in_total(self) -> int:
        return sum(self.cash_in.values())

    @property
    def cash_out_total(self) -> int:
        return sum(self.cash_out.values())

    @property
    def expected(self) -> int:
        """What the drawer should hold: float + cash net + cash in - cash out."""
        return self.opening_float + self.cash_net + self.cash_in_total - self.cash_out_total

    @property
    def counted(self) -> int | None:
        """The blind count's total (None before the close)."""
        if not self.closed:
            return None
        if not self.counts and self.recorded_counted is not None:  # a close without counts
            return self.recorded_counted
        return sum(value * count for value, count in self.counts.items())

    @property
    def variance(self) -> int | None:
        counted = self.counted
        return None if counted is None else counted - self.expected


@dataclass
class Figures:
    """Everything a report prints, for a set of journal entries (a shift, or the day
    since the last Z). The raw totals are fields; what is derived from them is a
    property, so a figure is computed in one place."""

    prices_include_tax: bool = True
    first_seq: int = 0
    last_seq: int = 0
    first_ts: str = ""  # when the first and the last entry were written (ISO, UTC)
    last_ts: str = ""
    # sales
    sales: int = 0
    sales_goods: int = 0  # the sales' totals before cash rounding (after discounts)
    discounts: int = 0  # what cashiers took off (promotions are prices, not discounts)
    sales_rounding: int = 0  # what cash rounding added to the sales' totals
    sales_paid: int = 0  # the sales' totals as paid (``total``, after rounding)
    sales_before_tax: int = 0  # the sales' ``net``
    sales_tax: int = 0  # the sales' ``tax``
    # refunds
    refunds: int = 0
    refunds_total: int = 0  # the goods' value given back
    refunds_paid: int = 0  # what their tenders gave back (cash after its rounding)
    refunds_tax: int = 0
    # money
    tenders: dict[str, TenderTotals] = field(default_factory=dict)
    rates: dict[tuple[str, str], RateTotals] = field(default_factory=dict)
    drawers: dict[int | None, Drawer] = field(default_factory=dict)
    by_hour: dict[int, list[int]] = field(default_factory=dict)  # local hour: [sales, paid]
    by_cashier: dict[int, list[int]] = field(default_factory=dict)  # id: [sales, paid]
    # events
    voids: int = 0
    voids_amount: int = 0
    late_voids: int = 0
    cancellations: int = 0
    cancellations_amount: int = 0
    no_sale_opens: int = 0
    reprints: int = 0
    discount_overrides: int = 0
    fraud: list[dict] = field(default_factory=list)

    # -- sales and tax ------------------------------------------------------------------------
    @property
    def gross_sales(self) -> int:
        return self.sales_goods + self.discounts

    @property
    def net_sales(self) -> int:
        return self.gross_sales - self.discounts - self.refunds_total

    @property
    def tax(self) -> int:
        """The tax in net sales, all rates."""
        return sum(rate.tax for rate in self.rates.values())

    @property
    def net_sales_before_tax(self) -> int:
        """Net sales without their tax (tax included in the prices); with prices that
        exclude tax, the sales' totals carry it on top, and this is net sales less it
        all the same."""
        return self.net_sales - self.tax

    def rates_in_order(self) -> list[RateTotals]:
        """Highest rate first, as receipts list them."""
        return sorted(self.rates.values(), key=lambda r: (-float(r.rate), r.code))

    # -- payments -----------------------------------------------------------------------------
    @property
    def cash_rounding(self) -> int:
        """What cash rounding added to the sales, less what the refunds' rounding gave
        back beyond the goods' value: the payments' difference from net sales."""
        refunds_rounding = self.refunds_paid - self.refunds_total
        return self.sales_rounding - refunds_rounding

    @property
    def payments_taken(self) -> int:
        return sum(t.taken for t in self.tenders.values())

    @property
    def payments_refunded(self) -> int:
        return sum(t.refunded for t in self.tenders.values())

    @property
    def payments_net(self) -> int:
        return self.payments_taken - self.payments_refunded

    def tenders_in_order(self) -> list[tuple[str, TenderTotals]]:
        """Cash first (the drawer's), then the others by name."""
        return sorted(self.tenders.items(), key=lambda kv: (kv[0] != "cash", kv[0]))

    # -- the drawers --------------------------------------------------------------------------
    def drawers_in_order(self) -> list[Drawer]:
        return [self.drawers[k] for k in sorted(self.drawers, key=lambda s: (s is None, s or 0))]

    @property
    def opening_float(self) -> int:
        return sum(d.opening_float for d in self.drawers.values())

    @property
    def cash_in(self) -> int:
        return sum(d.cash_in_total for d in self.drawers.values())

    @property
    def cash_out(self) -> int:
        return sum(d.cash_out_total for d in self.drawers.values())

    @property
    def expected_cash(self) -> int:
        """The drawers' expected cash, summed (a day of several shifts: each shift's
        drawer as it should have been at its close)."""
        return sum(d.expected for d in self.drawers.values())

    @property
    def shifts_closed(self) -> int:
        return sum(d.closed for d in self.drawers.values())

    @property
    def counted_cash(self) -> int | None:
        """The closed drawers' counts, summed; None when no drawer was counted."""
        counted = [d.counted for d in self.drawers.values() if d.closed]
        return sum(counted) if counted else None

    @property
    def variance(self) -> int | None:
        variances = [d.variance for d in self.drawers.values() if d.closed]
        return sum(variances) if variances else None

    @property
    def counts(self) -> dict[int, int]:
        """The blind counts of every closed drawer, added by denomination."""
        total: dict[int, int] = {}
        for drawer in self.drawers.values():
            for value, count in drawer.counts.items():
                total[value] = total.get(value, 0) + count
        return total

    def to_payload(self) -> dict:
        """The figures, for the report's journal entry (signed with it)."""
        return {
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "sales": self.sales,
            "gross_sales": self.gross_sales,
            "discounts": self.discounts,
            "refunds": [self.refunds, self.refunds_total],
            "net_sales": self.net_sales,
            "taxes": {f"{r.code} {r.rate}": [r.base, r.tax] for r in self.rates_in_order()},
            "tax": self.tax,
            "tenders": {kind: [t.taken, t.refunded] for kind, t in self.tenders_in_order()},
            "cash_rounding": self.cash_rounding,
            "by_cashier": {str(k): v for k, v in sorted(self.by_cashier.items())},
            "opening_float": self.opening_float,
            "cash_in": self.cash_in,
            "cash_out": self.cash_out,
            "expected_cash": self.expected_cash,
            "shifts_closed": self.shifts_closed,
            "counted_cash": self.counted_cash,
            "variance": self.variance,
            "counts": {str(k): v for k, v in sorted(self.counts.items(), reverse=True)},
            "voids": [self.voids, self.voids_amount, self.late_voids],
            "cancellations": [self.cancellations, self.cancellations_amount],
            "no_sale_opens": self.no_sale_opens,
            "reprints": self.reprints,
            "discount_overrides": self.discount_overrides,
            "fraud_signals": len(self.fraud),
        }


def _local_hour(ts: str, tz: tzinfo) -> int:
    return datetime.fromisoformat(ts).astimezone(tz).hour


def _rate(figures: Figures, tax: dict) -> RateTotals:
    key = (tax["code"], str(tax["rate"]))
    if key not in figures.rates:
        figures.rates[key] = RateTotals(*key)
    return figures.rates[key]


def _drawer(figures: Figures, payload: dict) -> Drawer:
    shift = payload.get("shift")
    if shift not in figures.drawers:
        figures.drawers[shift] = Drawer(shift)
    return figures.drawers[shift]


def _add(book: dict, key, amount: int) -> None:
    book[key] = book.get(key, 0) + amount


def build_figures(
    entries: Iterable[dict], tz: tzinfo, *, prices_include_tax: bool = True
) -> Figures:
    """The figures of ``entries``: one shift's, or everything since the last Z."""
    f = Figures(prices_include_tax=prices_include_tax)
    for entry in entries:
        kind, p = entry["type"], entry["payload"]
        f.first_seq = f.first_seq or entry["seq"]
        f.first_ts = f.first_ts or entry.get("ts", "")
        f.last_seq = entry["seq"]
        f.last_ts = entry.get("ts", f.last_ts)
        if kind == "sale":
            rounding = p.get("rounding", 0)
            taxes = p.get("taxes", [])
            f.sales += 1
            f.sales_paid += p["total"]
            f.sales_goods += p["total"] - rounding
            f.sales_rounding += rounding
            f.discounts += p.get("discount", 0)
            tax = p.get("tax", sum(t["amount"] for t in taxes))
            f.sales_tax += tax
            f.sales_before_tax += p.get("net", p["total"] - rounding - tax)
            for tender in p["tenders"]:
                f.tenders.setdefault(tender["kind"], TenderTotals()).taken += tender["amount"]
                if tender["kind"] == "cash":
                    _drawer(f, p).cash_taken += tender["amount"]
            for t in taxes:
                rate = _rate(f, t)
                rate.sales_base += t["base"]
                rate.sales_tax += t["amount"]
            for book, key in (
                (f.by_hour, _local_hour(entry["ts"], tz)),
                (f.by_cashier, p["cashier"]),
            ):
                slot = book.setdefault(key, [0, 0])
                slot[0] += 1
                slot[1] += p["total"]
        elif kind == "refund":
            f.refunds += 1
            f.refunds_total += p["amount"]
            for tender, amount in p["tenders"].items():
                f.refunds_paid += amount
                f.tenders.setdefault(tender, TenderTotals()).refunded += amount
                if tender == "cash":
                    _drawer(f, p).cash_refunded += amount
            for t in p.get("taxes", []):
                rate = _rate(f, t)
                rate.refunds_base += t["base"]
                rate.refunds_tax += t["amount"]
                f.refunds_tax += t["amount"]
        elif kind == "line_void":
            f.voids += 1
            f.voids_amount += p["amount"]
            f.late_voids += bool(p.get("late"))
        elif kind == "order_cancel":
            f.cancellations += 1
            f.cancellations_amount += p["total"]
        elif kind == "no_sale":
            f.no_sale_opens += 1
        elif kind == "reprint":
            f.reprints += 1
        elif kind == "discount_override":
            f.discount_overrides += 1
        elif kind in ("cash_in", "cash_out"):
            drawer = _drawer(f, p)
            _add(drawer.cash_in if kind == "cash_in" else drawer.cash_out, p["reason"], p["amount"])
        elif kind == "shift_open":
            drawer = _drawer(f, p)
            drawer.opening_float += p["float"]
            drawer.cashier = p.get("cashier")
        elif kind == "shift_close":
            drawer = _drawer(f, p)
            drawer.closed = True
            drawer.counts = {int(k): v for k, v in p.get("counts", {}).items() if v}
            drawer.recorded_counted = p.get("counted")
            drawer.recorded_expected = p.get("expected")
            drawer.recorded_variance = p.get("variance")
        elif kind == "fraud_signal":
            f.fraud.append(p)
    return f


@dataclass(frozen=True)
class Check:
    """One of an accountant's checks: ``what`` should hold, ``left == right``."""

    what: str
    left: int
    right: int

    @property
    def ok(self) -> bool:
        return self.left == self.right


def checks(f: Figures) -> list[Check]:
    """Each total against the same total found another way. All hold for a journal the
    terminal wrote; one that fails names a report line that does not add up."""
    out = [
        Check(
            "net sales = gross sales - discounts - refunds",
            f.net_sales,
            f.gross_sales - f.discounts - f.refunds_total,
        ),
        Check(
            "payments taken = gross sales - discounts + the sales' cash rounding",
            f.payments_taken,
            f.gross_sales - f.discounts + f.sales_rounding,
        ),
        Check("payments taken = the sales' totals as paid", f.payments_taken, f.sales_paid),
        Check(
            "payments refunded = what the refunds paid back",
            f.payments_refunded,
            f.refunds_paid,
        ),
        Check(
            "payments net = net sales + cash rounding",
            f.payments_net,
            f.net_sales + f.cash_rounding,
        ),
        Check(
            "tax (the rates' lines) = the sales' tax - the refunds' tax",
            f.tax,
            f.sales_tax - f.refunds_tax,
        ),
        Check(
            "sales by hour = payments taken",
            sum(paid for _n, paid in f.by_hour.values()),
            f.payments_taken,
        ),
        Check(
            "sales by cashier = payments taken",
            sum(paid for _n, paid in f.by_cashier.values()),
            f.payments_taken,
        ),
        Check(
            "sales counted by hour = sales",
            sum(n for n, _paid in f.by_hour.values()),
            f.sales,
        ),
    ]
    if f.prices_include_tax:
        out.append(
            Check(
                "net sales before tax = the sales' net - the refunds' net",
                f.net_sales_before_tax,
                f.sales_before_tax - (f.refunds_total - f.refunds_tax),
            )
        )
    cash = f.tenders.get("cash", TenderTotals())
    out.append(
        Check(
            "the drawers' cash net = the cash tender's net",
            sum(d.cash_net for d in f.drawers.values()),
            cash.net,
        )
    )
    for d in f.drawers_in_order():
        name = f"shift {d.shift}"
        out.append(
            Check(
                f"{name}: expected = float + cash net + cash in - cash out",
                d.expected,
                d.opening_float
                + d.cash_taken
                - d.cash_refunded
                + d.cash_in_total
                - d.cash_out_total,
            )
        )
        if d.closed:
            out += [
                Check(
                    f"{name}: expected = what its close recorded",
                    d.expected,
                    _int(d.recorded_expected),
                ),
                Check(
                    f"{name}: counted = the denominations' lines",
                    _int(d.counted),
                    _int(d.recorded_counted),
                ),
                Check(
                    f"{name}: variance = counted - expected",
                    _int(d.variance),
                    _int(d.recorded_variance),
                ),
            ]
    return out


def _int(value: int | None) -> int:
    return 0 if value is None else value


def problems(f: Figures) -> list[Check]:
    """The checks that fail."""
    return [c for c in checks(f) if not c.ok]
