"""The central tables, built from journal entries as they are stored.

The ingest calls :meth:`CentralRows.add` for each entry it stores and
:meth:`CentralRows.flush` once per batch, in the batch's transaction, so a central row
exists exactly when its entry does. Only what the payloads hold is used (see
``terminal/store/sales.py`` ``journal_payload``, ``terminal/store/refunds.py``,
``terminal/services/shifts.py``):

- ``sale`` -> :class:`Sale` (+ lines, payments, taxes per rate);
- ``refund`` -> :class:`Refund` (+ payments by tender, lines);
- ``shift_open`` / ``shift_close`` -> :class:`Shift`;
- ``z_report`` -> :class:`ZReport` (its figures as journaled);
- and, in the same transaction, the **rollups** the console reads (:class:`SalesHour`,
  :class:`PaymentDay`, :class:`ProductDay`): sums per terminal and local hour, per
  tender, per product, tax rate and cashier, added to as entries arrive (``line_void`` entries are
  counted there too). An entry is stored once, so it is added once.
  :func:`rebuild_rollups` makes them again from the central tables (a database made
  before they existed; a check that they agree).

A payload the rules here cannot read (an older terminal's, say) does not stop the
entry: the journal copy is what counts; :meth:`CentralRows.add` says what it could not
build and the ingest raises an alert.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from fleet.db import bulk_insert
from fleet.inventory import Receipt, add_to_levels, rebuild_levels, update_costs
from fleet.margins import RefundContext, cost_refund_lines, cost_sale_lines, sale_line_nets
from fleet.models import (
    CashierDay,
    PaymentDay,
    ProductDay,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLine,
    SalePayment,
    SalesHour,
    SaleTax,
    Shift,
    StockCountLine,
    StockMovement,
    TaxDay,
    Terminal,
    ZReport,
)
from fleet.orders.desk import settle_sold
from fleet.stocktake import line_rows
from terminal.core import fleet_protocol as fp
from terminal.core.inventory import (
    milli,
    receiving_movements,
    refund_movements,
    sale_movements,
    write_off_movements,
)
from terminal.core.numbering import transaction_label

SOLD_BOOKINGS = "sold bookings"  # staged beside the rows: (booking, sale label, when)
RECEIPTS = "receipts"  # staged beside the rows: deliveries whose cost updates the average
REFUNDS = "refunds"  # staged beside the rows: what costs a refund's lines (RefundContext)


def utc_naive(ts: str) -> datetime:
    """The entry's ISO time as a naive UTC datetime (how the fleet stores times)."""
    moment = datetime.fromisoformat(ts)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)


def business_day(ts: str, tz: ZoneInfo) -> date:
    moment = datetime.fromisoformat(ts)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a whole number: {value!r}")
    return value


def _int(value: Any) -> int:
    number = _int_or_none(value)
    if number is None:
        raise ValueError("a whole number is missing")
    return number


@dataclass
class CentralRows:
    """The central rows of one batch of one terminal, inserted together by :meth:`flush`."""

    terminal_id: str
    store: str
    timezone: str = "UTC"
    rows: dict[type, list[dict]] = field(default_factory=dict)
    shifts: dict[int, dict] = field(default_factory=dict)  # opened or closed in this batch

    def __post_init__(self) -> None:
        self._tz = ZoneInfo(self.timezone)

    def add(self, entry: fp.Entry, payload: dict) -> str | None:
        """Build the rows of one stored entry; None, or what could not be built."""
        build = _BUILDERS.get(entry.type)
        if build is None:
            return None
        staged: dict[type, list[dict]] = {}
        shifts = dict(self.shifts)
        try:
            build(self, entry, payload, staged, shifts)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            return f"{entry.type} at seq {entry.seq}: {type(exc).__name__}: {exc}"
        for model, rows in staged.items():
            self.rows.setdefault(model, []).extend(rows)
        self.shifts = shifts
        return None

    def flush(self, db: peewee.Database) -> list[str]:
        """Insert every row gathered (parents before children); shifts opened earlier
        and closed in this batch are updated. Returns what did not add up (a sale that
        names an online order which is not paid here): for an alert."""
        for model in (
            Sale,
            SalePayment,
            SaleTax,
            Refund,
            RefundPayment,
            StockMovement,
            StockCountLine,
        ):
            _insert(db, model, self.rows.get(model, ()))
        add_to_levels(db, self.rows.get(StockMovement, []))
        self._cost_in_journal_order(db)
        _insert(db, SaleLine, self.rows.get(SaleLine, ()))
        contexts = dict(self.rows.get(REFUNDS, ()))
        cost_refund_lines(db, self.store, self.rows.get(RefundLine, []), contexts)
        _insert(db, RefundLine, self.rows.get(RefundLine, ()))
        for number, row in self.shifts.items():
            opened = row.get("opened_seq") is not None
            if opened:
                Shift.insert(**row).execute(db)
                continue
            held = (
                Shift.select(Shift.id)
                .where((Shift.terminal_id == self.terminal_id) & (Shift.shift == number))
                .order_by(Shift.closed_seq.is_null(False), Shift.id.desc())
                .bind(db)
                .first()
            )  # the latest still open, else the latest
            if held is None:  # its opening is not held (a declared gap): the close alone
                Shift.insert(**row).execute(db)
                continue
            changes = {k: v for k, v in row.items() if k not in ("terminal_id", "shift", "store")}
            Shift.update(**changes).where(Shift.id == held.id).execute(db)
        _insert(db, ZReport, self.rows.get(ZReport, ()))
        Rollups(self.store, self._tz).add_rows(self.rows).save(db)
        # online orders these sales paid by bank transfer: their units leave the stock
        problems = [
            f"sale {sold['sale']} names online order {sold['order'][:40]}, not paid here"
            for sold in self.rows.get(SOLD_BOOKINGS, ())
            if not settle_sold(db, sold["order"], sold["sale"], sold["at"], self.store)
        ]
        self.rows.clear()
        self.shifts.clear()
        return problems

    def _cost_in_journal_order(self, db: peewee.Database) -> None:
        """The batch's deliveries into the averages and its sale lines costed, in the
        journal's order: a sale is costed at the average the deliveries before it left
        (terminal.core.margins), not at one that came after it in the same batch."""
        lines = sorted(self.rows.get(SaleLine, []), key=lambda line: line["sale_seq"])
        done = 0
        for receipt in sorted(self.rows.get(RECEIPTS, []), key=lambda r: (r.seq, r.position)):
            before = done
            while done < len(lines) and lines[done]["sale_seq"] < receipt.seq:
                done += 1
            cost_sale_lines(db, self.store, lines[before:done])
            update_costs(db, [receipt])
        cost_sale_lines(db, self.store, lines[done:])

    # -- the builders -----------------------------------------------------------------------
    def _common(self, entry: fp.Entry) -> dict:
        return {
            "terminal_id": self.terminal_id,
            "seq": entry.seq,
            "epoch": entry.epoch,
            "store": self.store,
            "ts": utc_naive(entry.ts),
            "business_day": business_day(entry.ts, self._tz),
        }

    def _sale(self, entry, p, staged, _shifts) -> None:
        number = _int(p["number"])
        paid = _int(p["total"])
        rounding = _int(p.get("rounding", 0))
        taxes = p.get("taxes") or []
        tax = _int(p.get("tax", sum(_int(t["amount"]) for t in taxes)))
        staged[Sale] = [
            {
                **self._common(entry),
                "number": number,
                "label": transaction_label(self.terminal_id, number),
                "return_code": str(p.get("return_code") or ""),
                "currency": str(p.get("currency") or ""),
                "cashier": _int_or_none(p.get("cashier")),
                "shift": _int_or_none(p.get("shift")),
                "customer": None if p.get("customer") is None else str(p["customer"])[:64],
                "total": paid - rounding,
                "paid": paid,
                "rounding": rounding,
                "discount": _int(p.get("discount", 0)),
                "net": _int(p.get("net", paid - rounding - tax)),
                "tax": tax,
                "points_earned": _int(p.get("points_earned", 0)),
            }
        ]
        key = {"terminal_id": self.terminal_id, "sale_seq": entry.seq}
        lines = p.get("lines") or []
        nets = sale_line_nets(_int(p.get("net", paid - rounding - tax)), lines)
        staged[SaleLine] = [
            {
                **key,
                "position": position,
                "sku": str(line["sku"]),
                "quantity": str(line["quantity"]),
                "unit_price": _int(line["unit_price"]),
                "amount": _int(line["amount"]),
                "tax_class": str(line.get("tax_class") or ""),
                "discount": _int(line.get("discount", 0)),
                "net": net,
                "cost": None,  # at flush, after the batch's deliveries
            }
            for position, (line, net) in enumerate(zip(lines, nets, strict=True), start=1)
        ]
        staged[SalePayment] = [
            {
                **key,
                "position": position,
                "kind": str(tender["kind"]),
                "amount": _int(tender["amount"]),
                "tendered": _int_or_none(tender.get("tendered")),
                "change": _int_or_none(tender.get("change")),
                "points": _int_or_none(tender.get("points")),
                "receipt_number": _int_or_none(tender.get("receipt_number")),
            }
            for position, tender in enumerate(p["tenders"], start=1)
        ]
        staged[StockMovement] = self._movements(entry, sale_movements(lines))
        staged[SOLD_BOOKINGS] = [
            {
                "order": str(tender["reference"]),
                "sale": transaction_label(self.terminal_id, number),
                "at": utc_naive(entry.ts),
            }
            for tender in p["tenders"]
            if tender["kind"] == "bank_transfer" and tender.get("reference")
        ]
        staged[SaleTax] = [
            {
                **key,
                "position": position,
                "code": str(t["code"]),
                "rate": str(t["rate"]),
                "base": _int(t["base"]),
                "amount": _int(t["amount"]),
            }
            for position, t in enumerate(taxes, start=1)
        ]

    def _line_void(self, entry, _p, staged, _shifts) -> None:
        staged[Void] = [{"terminal_id": self.terminal_id, "ts": utc_naive(entry.ts)}]

    def _refund(self, entry, p, staged, _shifts) -> None:
        number = _int(p["number"])
        tenders = p["tenders"]
        approved = p.get("approved_by")
        staged[Refund] = [
            {
                **self._common(entry),
                "number": number,
                "label": "R-" + transaction_label(self.terminal_id, number),
                "sale_label": None if p.get("sale") is None else str(p["sale"]),
                "cashier": _int_or_none(p.get("cashier")),
                "shift": _int_or_none(p.get("shift")),
                "amount": _int(p["amount"]),
                "paid": sum(_int(amount) for amount in tenders.values()),
                "reason": str(p.get("reason") or ""),
                "approved_by": None if approved is None else str(approved),
                "points_back": _int(p.get("points_back", 0)),
                "points_returned": _int(p.get("points_returned", 0)),
            }
        ]
        key = {"terminal_id": self.terminal_id, "refund_seq": entry.seq}
        staged[RefundPayment] = [
            {**key, "kind": str(kind), "amount": _int(amount)} for kind, amount in tenders.items()
        ]
        staged[RefundLine] = [
            {
                **key,
                "position": position,
                "sale_position": _int_or_none(line.get("position")),
                "sku": str(line["sku"]),
                "quantity": str(line["quantity"]),
                "amount": _int(line["amount"]),
                "restock": bool(line.get("restock", False)),
                "net": 0,  # these three at flush, from the sale's line (terminal.core.margins)
                "cost": 0,
                "uncosted": False,
            }
            for position, line in enumerate(p.get("lines") or [], start=1)
        ]
        taxes = [
            {"amount": _int(t["amount"]), "base": _int(t["base"])} for t in p.get("taxes") or []
        ]
        staged[REFUNDS] = [
            (
                (self.terminal_id, entry.seq),
                RefundContext(staged[Refund][0]["sale_label"], _int(p["amount"]), taxes),
            )
        ]

        staged[StockMovement] = self._movements(entry, refund_movements(p.get("lines") or []))

    def _receiving(self, entry, p, staged, _shifts) -> None:
        lines = p.get("lines") or []
        staged[StockMovement] = self._movements(entry, receiving_movements(lines))
        common = self._common(entry)
        staged[RECEIPTS] = [
            Receipt(
                self.store,
                str(line["sku"]),
                milli(line["quantity"]),
                _int(line["unit_cost"]),
                self.terminal_id,
                entry.seq,
                common["ts"],
                position,
            )
            for position, line in enumerate(lines, start=1)
        ]

    def _stock_count(self, entry, p, staged, _shifts) -> None:
        ts = self._common(entry)["ts"]
        staged[StockCountLine] = line_rows(self.terminal_id, self.store, entry.seq, ts, p)

    def _write_off(self, entry, p, staged, _shifts) -> None:
        moves = write_off_movements(p.get("lines") or [], str(p.get("reason", "")))
        staged[StockMovement] = self._movements(entry, moves)

    def _movements(self, entry: fp.Entry, moves: list) -> list[dict]:
        """The entry's stock movements as rows of the ledger, at the terminal's store."""
        common = self._common(entry)
        return [
            {
                "terminal_id": self.terminal_id,
                "seq": entry.seq,
                "position": move.position,
                "part": move.part,
                "store": self.store,
                "sku": move.sku,
                "quantity": move.quantity,
                "kind": move.kind,
                "reason": move.reason,
                "ts": common["ts"],
                "business_day": common["business_day"],
            }
            for move in moves
        ]

    def _shift_open(self, entry, p, _staged, shifts) -> None:
        number = _int(p["shift"])
        common = self._common(entry)
        shifts[number] = {
            "terminal_id": self.terminal_id,
            "shift": number,
            "store": self.store,
            "cashier": _int_or_none(p.get("cashier")),
            "opened_seq": entry.seq,
            "opened_at": common["ts"],
            "business_day": common["business_day"],
            "opening_float": _int(p.get("float", 0)),
        }

    def _shift_close(self, entry, p, _staged, shifts) -> None:
        number = _int(p["shift"])
        counts = p.get("counts") or {}
        if not isinstance(counts, dict):
            raise ValueError("counts is not an object")
        row = shifts.get(number) or {
            "terminal_id": self.terminal_id,
            "shift": number,
            "store": self.store,
        }
        shifts[number] = {
            **row,
            "closed_seq": entry.seq,
            "closed_at": utc_naive(entry.ts),
            "closed_by": _int_or_none(p.get("cashier")),
            "expected": _int_or_none(p.get("expected")),
            "counted": _int_or_none(p.get("counted")),
            "variance": _int_or_none(p.get("variance")),
            "counts_json": json.dumps(counts, sort_keys=True),
        }

    def _z_report(self, entry, p, staged, _shifts) -> None:
        common = self._common(entry)
        staged[ZReport] = [
            {
                "terminal_id": self.terminal_id,
                "seq": entry.seq,
                "epoch": entry.epoch,
                "number": _int(p["z_number"]),
                "store": self.store,
                "ts": common["ts"],
                "business_day": common["business_day"],
                "first_seq": _int(p.get("first_seq", 0)),
                "last_seq": _int(p["last_seq"]),
                "cashier": _int_or_none(p.get("cashier")),
                "figures_json": entry.payload_json,
            }
        ]


def _insert(db: peewee.Database, model: type[peewee.Model], rows: list[dict]) -> None:
    """Rows of one model, each a dict with the same keys (as the builders make them)."""
    if rows:
        names = list(rows[0])
        fields = [model._meta.fields[name] for name in names]
        bulk_insert(db, model, fields, (tuple(row[name] for name in names) for row in rows))


class Void:
    """A ``line_void`` entry, staged only to be counted in :class:`SalesHour`."""


@dataclass
class Rollups:
    """The rollups' increments of some central rows of one store (and time zone)."""

    store: str
    tz: ZoneInfo
    hours: dict[tuple, Counter] = field(default_factory=dict)  # (tid, day, hour)
    currency: dict[tuple, str] = field(default_factory=dict)
    payments: dict[tuple, Counter] = field(default_factory=dict)  # (tid, day, kind)
    products: dict[tuple, Counter] = field(default_factory=dict)  # (day, sku)
    taxes: dict[tuple, Counter] = field(default_factory=dict)  # (day, code, rate)
    cashiers: dict[tuple, Counter] = field(default_factory=dict)  # (tid, day, cashier)

    def _hour(self, terminal_id: str, moment: datetime, day: date) -> Counter:
        local = moment.replace(tzinfo=UTC).astimezone(self.tz)
        return self.hours.setdefault((terminal_id, day, local.hour), Counter())

    def add_rows(self, rows: dict[type, list[dict]]) -> Rollups:
        sale_day, refund_day, sale_cashier, refund_cashier = {}, {}, {}, {}
        for s in rows.get(Sale, ()):
            key = (s["terminal_id"], s["seq"])
            sale_day[key] = s["business_day"]
            sale_cashier[key] = (s["terminal_id"], s["business_day"], s["cashier"] or 0)
            c = self._hour(s["terminal_id"], s["ts"], s["business_day"])
            c.update(
                sales=1, paid=s["paid"], total=s["total"], tax=s["tax"], discount=s["discount"]
            )
            local = s["ts"].replace(tzinfo=UTC).astimezone(self.tz)
            self.currency[(s["terminal_id"], s["business_day"], local.hour)] = s["currency"]
        for r in rows.get(Refund, ()):
            refund_day[(r["terminal_id"], r["seq"])] = r["business_day"]
            refund_cashier[(r["terminal_id"], r["seq"])] = (
                r["terminal_id"],
                r["business_day"],
                r["cashier"] or 0,
            )
            self._hour(r["terminal_id"], r["ts"], r["business_day"]).update(
                refunds=1, refunded=r["paid"], refund_goods=r["amount"]
            )
        for s in rows.get(Sale, ()):
            key = (s["terminal_id"], s["business_day"], s["cashier"] or 0)
            self.cashiers.setdefault(key, Counter()).update(
                sales=1, paid=s["paid"], discount=s["discount"]
            )
        for r in rows.get(Refund, ()):
            key = (r["terminal_id"], r["business_day"], r["cashier"] or 0)
            self.cashiers.setdefault(key, Counter()).update(refunds=1, refunded=r["paid"])
        for x in rows.get(SaleTax, ()):
            day = sale_day[(x["terminal_id"], x["sale_seq"])]
            self.taxes.setdefault((day, x["code"], x["rate"]), Counter()).update(
                base=x["base"], amount=x["amount"], sales=1
            )
        for v in rows.get(Void, ()):
            day = v["ts"].replace(tzinfo=UTC).astimezone(self.tz).date()
            self._hour(v["terminal_id"], v["ts"], day).update(voids=1)
        for p in rows.get(SalePayment, ()):
            day = sale_day[(p["terminal_id"], p["sale_seq"])]
            key = (p["terminal_id"], day, p["kind"])
            self.payments.setdefault(key, Counter()).update(paid=p["amount"], payments=1)
        for p in rows.get(RefundPayment, ()):
            day = refund_day[(p["terminal_id"], p["refund_seq"])]
            key = (p["terminal_id"], day, p["kind"])
            self.payments.setdefault(key, Counter()).update(refunded=p["amount"])
        for line in rows.get(SaleLine, ()):
            sale = (line["terminal_id"], line["sale_seq"])
            cost = line.get("cost")
            self.products.setdefault((sale_day[sale], line["sku"]), Counter()).update(
                quantity_milli=milli(line["quantity"]),
                amount=line["amount"],
                lines=1,
                net=line.get("net") or 0,
                cost=cost or 0,
                uncosted=int(cost is None),
                uncosted_net=(line.get("net") or 0) if cost is None else 0,
            )
            self.cashiers.setdefault(sale_cashier[sale], Counter()).update(
                net=line.get("net") or 0,
                cost=cost or 0,
                uncosted=int(cost is None),
                uncosted_net=(line.get("net") or 0) if cost is None else 0,
            )
        for line in rows.get(RefundLine, ()):
            refund = (line["terminal_id"], line["refund_seq"])
            back = {"returned_net": line.get("net") or 0, "returned_cost": line.get("cost") or 0}
            if line.get("uncosted"):  # the revenue of a line sold uncosted comes back out of it
                back["uncosted_net"] = -(line.get("net") or 0)
            self.products.setdefault((refund_day[refund], line["sku"]), Counter()).update(
                returned_milli=milli(line["quantity"]), returned_amount=line["amount"], **back
            )
            self.cashiers.setdefault(refund_cashier[refund], Counter()).update(**back)
        return self

    def save(self, db: peewee.Database) -> None:
        """Add the increments to the rollup rows (made when missing)."""
        tax_fields = ("base", "amount", "sales")
        _upsert(
            db,
            TaxDay,
            [TaxDay.store, TaxDay.business_day, TaxDay.code, TaxDay.rate],
            [
                {
                    "store": self.store,
                    "business_day": day,
                    "code": code,
                    "rate": rate,
                    **{name: c[name] for name in tax_fields},
                }
                for (day, code, rate), c in self.taxes.items()
            ],
            tax_fields,
        )
        cashier_fields = (
            "sales",
            "paid",
            "discount",
            "refunds",
            "refunded",
            "net",
            "cost",
            "uncosted",
            "uncosted_net",
            "returned_net",
            "returned_cost",
        )
        _upsert(
            db,
            CashierDay,
            [CashierDay.terminal_id, CashierDay.business_day, CashierDay.cashier],
            [
                {
                    "terminal_id": tid,
                    "business_day": day,
                    "cashier": cashier,
                    "store": self.store,
                    **{name: c[name] for name in cashier_fields},
                }
                for (tid, day, cashier), c in self.cashiers.items()
            ],
            cashier_fields,
        )
        hour_fields = (
            "sales",
            "paid",
            "total",
            "tax",
            "discount",
            "refunds",
            "refunded",
            "refund_goods",
            "voids",
        )
        _upsert(
            db,
            SalesHour,
            [SalesHour.terminal_id, SalesHour.business_day, SalesHour.hour],
            [
                {
                    "terminal_id": tid,
                    "business_day": day,
                    "hour": hour,
                    "store": self.store,
                    "currency": self.currency.get((tid, day, hour), ""),
                    **{name: c[name] for name in hour_fields},
                }
                for (tid, day, hour), c in self.hours.items()
            ],
            hour_fields,
            keep_set=("currency",),
        )
        pay_fields = ("paid", "payments", "refunded")
        _upsert(
            db,
            PaymentDay,
            [PaymentDay.terminal_id, PaymentDay.business_day, PaymentDay.kind],
            [
                {
                    "terminal_id": tid,
                    "business_day": day,
                    "kind": kind,
                    "store": self.store,
                    **{name: c[name] for name in pay_fields},
                }
                for (tid, day, kind), c in self.payments.items()
            ],
            pay_fields,
        )
        product_fields = (
            "quantity_milli",
            "amount",
            "lines",
            "returned_milli",
            "returned_amount",
            "net",
            "cost",
            "uncosted",
            "uncosted_net",
            "returned_net",
            "returned_cost",
        )
        _upsert(
            db,
            ProductDay,
            [ProductDay.store, ProductDay.business_day, ProductDay.sku],
            [
                {
                    "store": self.store,
                    "business_day": day,
                    "sku": sku,
                    **{name: c[name] for name in product_fields},
                }
                for (day, sku), c in self.products.items()
            ],
            product_fields,
        )


def _upsert(db, model, target, rows, summed, keep_set=()) -> None:
    """Insert ``rows``; where one exists, add the ``summed`` fields to it."""
    if not rows:
        return
    fields = model._meta.fields
    update = {fields[name]: fields[name] + peewee.EXCLUDED[name] for name in summed}
    for name in keep_set:  # (a currency stays what the first sale said when it is empty)
        update[fields[name]] = peewee.fn.COALESCE(
            peewee.fn.NULLIF(peewee.EXCLUDED[name], ""), fields[name]
        )
    for start in range(0, len(rows), 500):
        model.insert_many(rows[start : start + 500]).on_conflict(
            conflict_target=target, update=update
        ).execute(db)


def rebuild_rollups(db: peewee.Database) -> None:
    """Make the rollups again from the central tables (inside a transaction): each
    terminal's sales, refunds and their lines and payments, as the ingest would have
    added them. Voids are not in the central tables: their count is kept as it was."""
    voids = {
        (r.terminal_id, r.business_day, r.hour): r.voids
        for r in SalesHour.select().where(SalesHour.voids > 0).bind(db)
    }
    for model in (SalesHour, PaymentDay, ProductDay, TaxDay, CashierDay):
        model.delete().execute(db)
    rebuild_levels(db)
    terminals = {t.id: t for t in Terminal.select().bind(db)}
    for tid, terminal in terminals.items():
        rows: dict[type, list[dict]] = {}
        for model, key in (
            (Sale, Sale.terminal_id),
            (Refund, Refund.terminal_id),
            (SalePayment, SalePayment.terminal_id),
            (SaleTax, SaleTax.terminal_id),
            (RefundPayment, RefundPayment.terminal_id),
            (SaleLine, SaleLine.terminal_id),
            (RefundLine, RefundLine.terminal_id),
        ):
            rows[model] = list(model.select().where(key == tid).dicts().bind(db))
        by_store: dict[str, dict[type, list[dict]]] = {}
        store_of_sale = {s["seq"]: s["store"] for s in rows[Sale]}
        store_of_refund = {r["seq"]: r["store"] for r in rows[Refund]}
        for model, items in rows.items():
            for item in items:
                if model in (Sale, Refund):
                    store = item["store"]
                elif model in (SalePayment, SaleLine, SaleTax):
                    store = store_of_sale[item["sale_seq"]]
                else:
                    store = store_of_refund[item["refund_seq"]]
                by_store.setdefault(store, {}).setdefault(model, []).append(item)
        for store, staged in by_store.items():
            Rollups(store, ZoneInfo(terminal.timezone)).add_rows(staged).save(db)
    for (tid, day, hour), count in voids.items():
        SalesHour.insert(
            terminal_id=tid,
            business_day=day,
            hour=hour,
            store=terminals[tid].store if tid in terminals else "",
            voids=count,
        ).on_conflict(
            conflict_target=[SalesHour.terminal_id, SalesHour.business_day, SalesHour.hour],
            update={SalesHour.voids: count},
        ).execute(db)


_BUILDERS = {
    "line_void": CentralRows._line_void,
    "sale": CentralRows._sale,
    "refund": CentralRows._refund,
    "receiving": CentralRows._receiving,
    "write_off": CentralRows._write_off,
    "stock_count": CentralRows._stock_count,
    "shift_open": CentralRows._shift_open,
    "shift_close": CentralRows._shift_close,
    "z_report": CentralRows._z_report,
}


def store_currencies(db: peewee.Database, stores: list[str]) -> dict[str, str]:
    """Each store's currency as its sales' rollups have it (a store that has sold nothing
    yet is not in it)."""
    return dict(
        SalesHour.select(SalesHour.store, peewee.fn.MAX(SalesHour.currency))
        .where(SalesHour.store.in_(stores or [""]) & (SalesHour.currency != ""))
        .group_by(SalesHour.store)
        .tuples()
        .bind(db)
    )
