"""A replacement terminal rebuilds the lost terminal's records from the fleet's copy of its
journal (``pos-terminal restore --from-fleet FILE``; the file from ``pos-fleet export``).

The fleet holds every entry the lost terminal sent, exactly as signed, up to its
acknowledged head. The replacement takes over the lost terminal's id, before its first
start (its journal empty: otherwise both journals would name an entry (T01, 1, 1)):

1. :func:`read_copy` checks the whole file before anything is written: the header (the
   format, this terminal's id, the head, the journal keys), every entry's terminal, the
   chain from genesis and every signature with the header's keys
   (:func:`~terminal.store.journal_format.verify_entries`), and that the last entry is
   the header's head. Any failure refuses the restore, naming the first bad seq.
2. :func:`restore`, in one transaction: the entries go into ``journal_archive`` (as an
   import keeps the replaced terminal's), so ``journal verify`` and ``journal export``
   walk the whole history; the records the entries carry are rebuilt (sales with their
   lines, taxes and tenders, refunds with theirs, shifts); every number series (sales,
   refunds, Z reports, and any carried by an earlier epoch start) goes on after the
   highest number in the entries; a new epoch begins after the fleet's head (reason
   ``restore_from_fleet``), so the fleet takes the replacement's entries as the next
   epoch. The file is read again for this and must be byte for byte the one checked.

What the journal does not hold is not made up: products and prices, customers and
their points, card authorisations (never journaled), cashiers' names and PINs. A sale's
cashier comes back as a number, an inactive cashier who needs a PIN (``pos-terminal
cashier set-pin``), a supervisor where the journal shows them approving as one. Line
and tax names come from this terminal's configuration (``Rules``), else the SKU or code.
A Z report is a journal entry only: its number series is carried on.

Whatever the lost terminal recorded after the last entry the fleet got is lost: its
numbers go on from the fleet's last, and its entries after the head, if it is ever
found, are not part of this journal (the fleet refuses them as an older epoch).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import peewee
from peewee import Database

from terminal.core.catalogue import line_amount
from terminal.core.errors import N_, PosError
from terminal.core.numbering import return_code, transaction_label
from terminal.store import journal_format, outbox
from terminal.store.continuity import OpenStore, remember
from terminal.store.counters import carry_forward
from terminal.store.journal import JournalEntry, head, sodium_batch
from terminal.store.journal_format import (
    EPOCH_START,
    Head,
    key_id,
    load_public_key,
    verify_entries,
)
from terminal.store.models import (
    RefundLineRow,
    RefundRow,
    RefundTenderRow,
    SaleLineRow,
    SaleRow,
    SaleTaxRow,
    ShiftRow,
    TenderRow,
)
from terminal.store.schema import ARCHIVE_SCHEMA

FORMAT = "pos-fleet-journal/1"  # as fleet/export.py writes it
REASON = "restore_from_fleet"
ENTRY_FIELDS = ("epoch", *journal_format.FIELDS, "prev_hash", "hash", "signature")
LARGEST = 2**63  # SQLite's integers end below this
REBUILT = ("sale", "refund", "shift_open", "shift_close", "z_report", "reprint")


class FleetRestoreError(PosError):
    """The fleet's copy cannot be restored here; nothing was changed."""


@dataclass(frozen=True)
class FleetCopy:
    """A fleet export that verified (:func:`read_copy`)."""

    path: Path
    terminal_id: str
    head: JournalEntry  # the fleet's head: the last entry, with its grand total
    keys: dict[str, str]  # key id -> PEM
    exported_at: str
    reported_head: int  # the lost terminal's own head at its last batch (its seq)
    entries: int
    digest: str  # SHA-256 of the file as checked


@dataclass(frozen=True)
class Rules:
    """What the journal does not say, from this terminal's configuration."""

    prices_include_tax: bool
    tax_names: Mapping[str, str] = field(default_factory=dict)  # tax code -> name
    product_names: Mapping[str, str] = field(default_factory=dict)  # SKU -> name
    cashier_names: Mapping[int, str] = field(default_factory=dict)  # number -> name
    cashier_name: Callable[[int], str] = str  # for a number not named above


@dataclass(frozen=True)
class Restored:
    copy: FleetCopy
    counts: dict[str, int]  # entry type -> records rebuilt (sale, refund, shift_open, ...)
    numbers: dict[str, int]  # series -> its last number: the next one follows it
    cashiers: dict[int, str]  # number -> role, as made here (inactive, no PIN)
    closed_uncounted: list[int]  # shifts open at the fleet's head, closed here uncounted
    skipped: list[tuple[int, str, str]]  # (seq, type, why) records not rebuilt
    epoch_start: JournalEntry


# -- reading and checking the file ------------------------------------------------------------
def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice is refused: one line must read one way only."""
    keys = [key for key, _value in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"key given twice: {', '.join(sorted({k for k in keys if keys.count(k) > 1}))}"
        )
    return dict(pairs)


def _lines(path: Path, digest) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON) of each non-blank line; ``digest`` sees every byte."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FleetRestoreError(
            N_("{file} cannot be read: {problem}"), file=str(path), problem=exc.strerror
        ) from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            digest.update(raw)
            if not raw.strip():
                continue
            try:
                value = json.loads(raw, object_pairs_hook=_unique_keys)
            except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError is one)
                raise FleetRestoreError(
                    N_("{file}, line {line}: not a line of a fleet journal export ({problem})"),
                    file=path.name,
                    line=number,
                    problem=str(exc)[:200],
                ) from None
            yield number, value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _header_problem(header: Any) -> str | None:
    if not isinstance(header, dict):
        return "the first line is not an object"
    for name, kind in (("terminal_id", str), ("head", dict), ("keys", dict)):
        if not isinstance(header.get(name), kind):
            return f"'{name}' is missing or malformed"
    found = header["head"]
    if not (_whole(found.get("epoch")) and found["epoch"] >= 1):
        return "the head's epoch is not a number from 1"
    if not (_whole(found.get("seq")) and found["seq"] >= 1):
        return "the head's seq is not a number from 1"
    digest = found.get("hash")
    if not (
        isinstance(digest, str) and len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    ):
        return "the head's hash is not 64 lower-case hex digits"
    if not header["keys"]:
        return "no journal keys"
    return None


def _keys(path: Path, pems: dict[str, Any]) -> dict:
    keys = {}
    for kid, pem in pems.items():
        try:
            key = load_public_key(pem.encode()) if isinstance(pem, str) else None
        except (ValueError, TypeError):
            key = None
        if key is None or key_id(key) != kid:
            raise FleetRestoreError(
                N_("{file}: the journal key {key} in its header is not an Ed25519 key of that id"),
                file=path.name,
                key=str(kid)[:16],
            )
        keys[kid] = key
    return keys


def _check_header(path: Path, line: tuple[int, Any] | None, terminal_id: str) -> dict:
    if line is None:
        raise FleetRestoreError(N_("{file} is empty"), file=path.name)
    header = line[1]
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FleetRestoreError(
            N_("{file} is not a journal exported by the fleet (pos-fleet export TERMINAL FILE)"),
            file=path.name,
        )
    problem = _header_problem(header)
    if problem:
        raise FleetRestoreError(
            N_("{file}: its header is malformed ({problem})"), file=path.name, problem=problem
        )
    if header["terminal_id"] != terminal_id:
        raise FleetRestoreError(
            N_(
                "{file} holds the journal of terminal {theirs}, but this terminal is {ours}: "
                "a replacement restores the copy of the terminal whose id it takes over "
                "([terminal] id). Nothing was restored."
            ),
            file=path.name,
            theirs=header["terminal_id"],
            ours=terminal_id,
        )
    return header


def read_copy(path: Path, terminal_id: str) -> FleetCopy:
    """Read and check the whole file (see the module's docstring); FleetRestoreError
    names what is wrong, and where. Nothing is written."""
    path = Path(path)
    digest = hashlib.sha256()
    lines = _lines(path, digest)
    header = _check_header(path, next(lines, None), terminal_id)
    keys = _keys(path, header["keys"])
    wanted = header["head"]
    count = 0
    last: dict | None = None

    def entries() -> Iterator[dict]:
        nonlocal count, last
        for number, value in lines:
            if isinstance(value, dict):
                if "payload" not in value:  # (a journal row's payload_json is not an export's)
                    raise FleetRestoreError(
                        N_(
                            "{file}, line {line}: an entry without its payload. "
                            "Nothing was restored."
                        ),
                        file=path.name,
                        line=number,
                    )
                other = value.get("terminal_id")
                if isinstance(other, str) and other != terminal_id:
                    raise FleetRestoreError(
                        N_(
                            "{file}, line {line}: an entry of terminal {other} in the copy of "
                            "{terminal}. Nothing was restored."
                        ),
                        file=path.name,
                        line=number,
                        other=other,
                        terminal=terminal_id,
                    )
                value["__line__"] = number  # named by a malformed entry's verdict; not hashed
            count += 1
            last = value
            yield value

    verdict = verify_entries(
        entries(),
        keys,
        expected_head=Head(wanted["seq"], wanted["hash"], wanted["epoch"]),
        check=sodium_batch,
    )
    if not verdict.ok:
        if verdict.first_bad_seq is None:
            raise FleetRestoreError(
                N_("{file} does not verify: {reason}. Nothing was restored."),
                file=path.name,
                reason=verdict.reason,
            )
        raise FleetRestoreError(
            N_("{file} does not verify at seq {seq}: {reason}. Nothing was restored."),
            file=path.name,
            seq=verdict.first_bad_seq,
            reason=verdict.reason,
        )
    if verdict.head != (wanted["epoch"], wanted["seq"], wanted["hash"]):
        raise FleetRestoreError(
            N_(
                "{file} does not verify at seq {seq}: it goes on after the head its header "
                "names (seq {head}). Nothing was restored."
            ),
            file=path.name,
            seq=wanted["seq"] + 1,
            head=wanted["seq"],
        )
    assert last is not None  # a verdict that is ok saw entries
    reported = header.get("reported_head")
    return FleetCopy(
        path=path,
        terminal_id=terminal_id,
        head=JournalEntry(last["seq"], last["hash"], last.get("epoch", 1), last["grand_total"]),
        keys={kid: pem for kid, pem in header["keys"].items()},
        exported_at=str(header.get("exported_at") or ""),
        reported_head=max(reported if _whole(reported) else 0, last["seq"]),
        entries=count,
        digest=digest.hexdigest(),
    )


# -- rebuilding the records -------------------------------------------------------------------
def _naive_utc(ts: str) -> datetime:
    moment = datetime.fromisoformat(ts)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)


def _int(value: Any) -> int:
    if not _whole(value):
        raise ValueError(f"not a whole number: {value!r}")
    return value


def _int_or_none(value: Any) -> int | None:
    return None if value is None else _int(value)


def _milli(quantity: Any) -> tuple[Decimal, int]:
    exact = Decimal(str(quantity))
    if not exact.is_finite():
        raise ValueError(f"not a quantity: {quantity!r}")
    return exact, int(exact * 1000)


_CASHIER = (
    "INSERT OR IGNORE INTO cashier (id, name, role, pin_hash, active, peppered)"
    " VALUES (?, ?, 'cashier', '', 0, 1)"
)


class _Rebuild:
    """The records of one fleet copy, entry by entry, inside the restore's transaction."""

    def __init__(self, db: Database, terminal_id: str, rules: Rules) -> None:
        self.db, self.terminal_id, self.rules = db, terminal_id, rules
        self.counts: Counter[str] = Counter()
        self.numbers: dict[str, int] = {}
        self.cashiers: dict[int, str] = {}
        self.sales: dict[str, int] = {}  # label -> sale row id
        self.skipped: list[tuple[int, str, str]] = []
        self.builders = {
            "sale": self._sale,
            "refund": self._refund,
            "shift_open": self._shift_open,
            "shift_close": self._shift_close,
            "z_report": lambda _entry, _payload: None,  # the entry is the record
            "reprint": self._reprint,
            EPOCH_START: self._closed_uncounted,
        }

    def add(self, entry: dict) -> None:
        payload = entry["payload"]
        if not isinstance(payload, dict):
            if entry["type"] in self.builders:
                self.skipped.append((entry["seq"], entry["type"], "its payload is not an object"))
            return
        self._numbers(entry["type"], payload)
        self._people(payload)
        build = self.builders.get(entry["type"])
        if build is None:
            return
        try:
            with self.db.atomic():  # a savepoint: a record that cannot be built leaves nothing
                build(entry, payload)
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            InvalidOperation,
            OverflowError,
            peewee.IntegrityError,
        ) as exc:
            self.skipped.append((entry["seq"], entry["type"], f"{type(exc).__name__}: {exc}"))
            return
        self.counts[entry["type"]] += 1

    # -- numbers and cashiers: from every entry that names them --------------------------------
    def _number(self, series: str, number: Any) -> None:
        if _whole(number) and self.numbers.get(series, 0) < number < LARGEST:
            self.numbers[series] = number

    def _numbers(self, kind: str, payload: dict) -> None:
        tid = self.terminal_id
        if kind == "sale":
            self._number(tid, payload.get("number"))
        elif kind == "refund":
            self._number(f"{tid}:refund", payload.get("number"))
        elif kind == "z_report":
            self._number(f"{tid}:Z", payload.get("z_number"))
        # an earlier restore, reset or transfer: the numbers it carried on were issued
        carried = payload.get("numbers") if kind == EPOCH_START else None
        if isinstance(carried, dict):
            for series, number in carried.items():
                self._number(str(series), number)
        moved = payload.get("numbers_carried")
        if isinstance(moved, dict):
            for series, span in moved.items():
                if isinstance(span, list) and span:
                    self._number(str(series), span[-1])

    def _cashier(self, number: Any, role: str = "cashier") -> None:
        if not _whole(number) or not 0 <= number < LARGEST:
            return
        if number not in self.cashiers:
            name = self.rules.cashier_names.get(number) or self.rules.cashier_name(number)
            self.db.execute_sql(_CASHIER, (number, name))
            self.cashiers[number] = "cashier"
        if role == "supervisor" and self.cashiers[number] != "supervisor":
            self.db.execute_sql("UPDATE cashier SET role = 'supervisor' WHERE id = ?", (number,))
            self.cashiers[number] = "supervisor"

    def _people(self, payload: dict) -> None:
        """Cashiers the entry names; a supervisor is one who approved as a supervisor
        (a number, not a passkey), or was added as one."""
        self._cashier(payload.get("cashier"))
        self._cashier(payload.get("asked_by"))
        self._cashier(payload.get("approved_by"), "supervisor")
        if payload.get("change") == "cashier added" and payload.get("role") == "supervisor":
            self._cashier(payload.get("cashier"), "supervisor")

    # -- the records ------------------------------------------------------------------------
    def _sale(self, entry: dict, p: dict) -> None:
        tid, rules = self.terminal_id, self.rules
        number = _int(p["number"])
        total = _int(p["total"])
        rounding = _int(p.get("rounding", 0))
        taxes = p.get("taxes") or []
        tax = _int(p.get("tax", sum(_int(t["amount"]) for t in taxes)))
        customer = p.get("customer")
        sale_id = SaleRow.insert(
            terminal_id=tid,
            number=number,
            created_at=_naive_utc(entry["ts"]),
            cashier=_int(p["cashier"]),
            currency=str(p.get("currency") or ""),
            prices_include_tax=rules.prices_include_tax,
            net=_int(p.get("net", total - rounding - tax)),
            tax=tax,
            total=total,
            rounding=rounding,
            return_code=str(p.get("return_code") or return_code(tid, number)),
            shift_id=_int_or_none(p.get("shift")),
            customer_id=None if customer is None else str(customer),
            discount=_int(p.get("discount", 0)),
            points_earned=_int(p.get("points_earned", 0)),
            reprints=0,
            points_balance=None,
        ).execute(self.db)
        for position, line in enumerate(p.get("lines") or [], start=1):
            quantity, milli = _milli(line["quantity"])
            unit_price, amount = _int(line["unit_price"]), _int(line["amount"])
            discount = _int(line.get("discount", 0))
            sku = str(line["sku"])
            SaleLineRow.insert(
                sale=sale_id,
                position=position,
                sku=sku,
                name=rules.product_names.get(sku, sku),
                quantity_milli=milli,
                unit_price=unit_price,
                amount=amount,
                tax_class=str(line.get("tax_class") or ""),
                # before promotion and discounts, by the terminal's own rule; the journal
                # keeps all of a line's discounts as one figure: shown as the line's own
                regular_amount=max(line_amount(unit_price, quantity), amount + discount),
                discount=discount,
                own_discount=discount,
                promotion="",
            ).execute(self.db)
        for t in taxes:
            code = str(t["code"])
            SaleTaxRow.insert(
                sale=sale_id,
                code=code,
                name=rules.tax_names.get(code, code),
                rate=str(t["rate"]),
                base=_int(t["base"]),
                amount=_int(t["amount"]),
            ).execute(self.db)
        for t in p["tenders"]:
            TenderRow.insert(
                sale=sale_id,
                kind=str(t["kind"]),
                amount=_int(t["amount"]),
                tendered=_int(t.get("tendered", 0)),
                change=_int(t.get("change", 0)),
                points=_int(t.get("points", 0)),
                receipt_number=_int_or_none(t.get("receipt_number")),
            ).execute(self.db)
        self.sales[transaction_label(tid, number)] = sale_id

    def _refund(self, entry: dict, p: dict) -> None:
        label = p.get("sale")
        sale_id = self.sales.get(label) if isinstance(label, str) else None
        approved = p.get("approved_by")
        refund_id = RefundRow.insert(
            terminal_id=self.terminal_id,
            number=_int(p["number"]),
            created_at=_naive_utc(entry["ts"]),
            sale=sale_id,
            cashier_id=_int(p["cashier"]),
            shift_id=_int_or_none(p.get("shift")),
            amount=_int(p["amount"]),
            reason=str(p.get("reason") or ""),
            approved_by=None if approved is None else str(approved),
            points_back=_int(p.get("points_back", 0)),
        ).execute(self.db)
        for line in p.get("lines") or []:
            position = _int_or_none(line.get("position")) or 0
            _quantity, milli = _milli(line["quantity"])
            sku = str(line["sku"])
            sold = None
            if sale_id is not None:
                sold = (
                    SaleLineRow.select(SaleLineRow.name, SaleLineRow.tax_class)
                    .where((SaleLineRow.sale == sale_id) & (SaleLineRow.position == position))
                    .tuples()
                    .bind(self.db)
                    .first()
                )
            name, tax_class = sold or (self.rules.product_names.get(sku, sku), "")
            RefundLineRow.insert(
                refund=refund_id,
                position=position,
                sku=sku,
                name=name,
                quantity_milli=milli,
                amount=_int(line["amount"]),
                tax_class=tax_class,
                restock=bool(line.get("restock", False)),
            ).execute(self.db)
        for kind, amount in p["tenders"].items():
            RefundTenderRow.insert(
                refund=refund_id, kind=str(kind), amount=_int(amount), receipt_number=None
            ).execute(self.db)

    def _reprint(self, _entry: dict, p: dict) -> None:
        """A copy printed: the next copy of that receipt is numbered after it."""
        sale_id = self.sales.get(p["sale"])
        if sale_id is None:
            raise ValueError(f"sale {p['sale']} is not in the fleet's copy")
        SaleRow.update(reprints=peewee.fn.MAX(SaleRow.reprints, _int(p["copy"]))).where(
            SaleRow.id == sale_id
        ).execute(self.db)

    def _shift_open(self, entry: dict, p: dict) -> None:
        ShiftRow.insert(
            id=_int(p["shift"]),
            terminal_id=self.terminal_id,
            cashier_id=_int(p["cashier"]),
            opened_at=_naive_utc(entry["ts"]),
            opening_float=_int(p.get("float", 0)),
        ).execute(self.db)

    def _shift_close(self, entry: dict, p: dict) -> None:
        counts = p.get("counts") or {}
        if not isinstance(counts, dict):
            raise ValueError("its counts are not an object")
        ordered = dict(sorted(counts.items(), key=lambda item: int(item[0])))
        expected, counted = _int_or_none(p.get("expected")), _int_or_none(p.get("counted"))
        changed = (
            ShiftRow.update(
                closed_at=_naive_utc(entry["ts"]),
                expected=expected,
                counted=counted,
                variance=_int_or_none(p.get("variance")),
                counts=json.dumps(ordered),
            )
            .where((ShiftRow.id == _int(p["shift"])) & ShiftRow.closed_at.is_null())
            .execute(self.db)
        )
        if not changed:
            raise ValueError(f"shift {p['shift']} is not open in the fleet's copy")

    def _closed_uncounted(self, entry: dict, payload: dict) -> None:
        """An earlier restore from the fleet closed these shifts, uncounted (no entry of
        their own says so: its epoch start does)."""
        shifts = payload.get("shifts_closed_uncounted")
        if isinstance(shifts, list):
            for shift in filter(_whole, shifts):
                ShiftRow.update(closed_at=_naive_utc(entry["ts"])).where(
                    (ShiftRow.id == shift) & ShiftRow.closed_at.is_null()
                ).execute(self.db)

    def close_open_shifts(self, at: datetime) -> list[int]:
        """Shifts open at the fleet's head were never counted: they end here, uncounted
        (as an import ends them)."""
        ids = [
            row[0]
            for row in self.db.execute_sql(
                "SELECT id FROM shift WHERE closed_at IS NULL ORDER BY id"
            ).fetchall()
        ]
        if ids:
            self.db.execute_sql(
                "UPDATE shift SET closed_at = ? WHERE closed_at IS NULL",
                (at.astimezone(UTC).replace(tzinfo=None).isoformat(" "),),
            )
        return ids


# -- the restore ------------------------------------------------------------------------------
def _refuse_started(db: Database, terminal_id: str) -> None:
    own = head(db)
    sales = db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0]
    refunds = db.execute_sql("SELECT COUNT(*) FROM refund").fetchone()[0]
    if own is not None or sales or refunds:
        raise FleetRestoreError(
            N_(
                "This terminal has already started as {terminal} (its journal goes up to seq "
                "{seq}): its journal and the lost terminal's would name "
                "different entries alike. Restore from the fleet before the replacement's "
                "first start (an empty data directory and key store). Nothing was restored."
            ),
            terminal=terminal_id,
            seq=own.seq if own else 0,
        )


def _entry(value: dict) -> dict:
    """An entry as the archive keeps it (the fields the journal hashes and signs)."""
    entry = {name: value[name] for name in ENTRY_FIELDS if name in value}
    entry.setdefault("epoch", 1)
    return entry


def restore(store: OpenStore, copy: FleetCopy, rules: Rules, at: datetime) -> Restored:
    """Put the fleet's copy in place on a replacement that has not started: archive,
    records, numbers, a new epoch after the fleet's head; one transaction. Then the key
    store remembers the new state. FleetRestoreError when the terminal has started, or
    the file changed since :func:`read_copy`; nothing is changed then."""
    db, journal = store.db, store.journal
    terminal_id = journal.terminal_id
    if copy.terminal_id != terminal_id:  # (read_copy was given another id)
        raise FleetRestoreError(
            N_(
                "{file} holds the journal of terminal {theirs}, but this terminal is {ours}: "
                "a replacement restores the copy of the terminal whose id it takes over "
                "([terminal] id). Nothing was restored."
            ),
            file=copy.path.name,
            theirs=copy.terminal_id,
            ours=terminal_id,
        )
    with db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
        _refuse_started(db, terminal_id)
        db.execute_sql(ARCHIVE_SCHEMA)
        rebuild = _Rebuild(db, terminal_id, rules)
        digest = hashlib.sha256()
        lines = _lines(copy.path, digest)
        next(lines, None)  # the header, checked already
        cursor = db.cursor()
        for _number, value in lines:
            entry = _entry(value)
            cursor.execute(
                "INSERT INTO journal_archive (terminal_id, epoch, seq, key_id, public_key, entry)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    terminal_id,
                    entry["epoch"],
                    entry["seq"],
                    entry["key_id"],
                    copy.keys[entry["key_id"]],
                    json.dumps(entry, sort_keys=True, ensure_ascii=False),
                ),
            )
            rebuild.add(entry)
        if digest.hexdigest() != copy.digest:
            raise FleetRestoreError(
                N_("{file} changed while it was being restored. Nothing was restored."),
                file=copy.path.name,
            )
        closed = rebuild.close_open_shifts(at)
        highest = dict(sorted(rebuild.numbers.items()))
        moved = carry_forward(cursor, highest)
        start = journal.begin_epoch(
            REASON,
            copy.head,
            at,
            numbers_carried=moved,
            numbers=highest,
            fleet_copy={
                "exported_at": copy.exported_at,
                "entries": copy.entries,
                "sha256": copy.digest,
                "reported_head": copy.reported_head,
            },
            records={kind: rebuild.counts.get(kind, 0) for kind in REBUILT},
            shifts_closed_uncounted=closed,
        )
        outbox.set_mark(db, copy.head.seq)  # the fleet holds the lost terminal's entries
    remember(store.keys, db, terminal_id, REASON, at)
    return Restored(
        copy=copy,
        counts={kind: rebuild.counts.get(kind, 0) for kind in REBUILT},
        numbers=highest,
        cashiers=dict(sorted(rebuild.cashiers.items())),
        closed_uncounted=closed,
        skipped=rebuild.skipped,
        epoch_start=start,
    )
