"""Reports from the fleet's copy of the journals.

- :func:`z_report_figures` rebuilds a terminal's Z report from the entries the fleet
  holds, with the terminal's own rules (``terminal.core.reconcile.build_figures``) over
  exactly the entries that Z covered, so it equals the printed one to the unit;
  :func:`check_z_report` compares the two line by line.
- :func:`sales_by_day` sums the central tables per store and terminal for a business day.
- :func:`verify_chain` walks a terminal's chain as the fleet holds it (links, hashes,
  signatures, epochs) up to the acknowledged head, and names the first bad entry, as
  ``journal_format``'s verifier does for an exported journal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import peewee
from cryptography.hazmat.primitives import serialization
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from peewee import fn

from fleet.models import Alert, Entry, Refund, Sale, Terminal
from fleet.registry import terminal_keys
from terminal.core.reconcile import Figures, build_figures
from terminal.store.journal_format import Head, Verdict, verify_entries

# the fields a Z report's entry carries besides its figures
Z_FIELDS = ("z_number", "cashier", "asked_by", "approved_by")
PAGE = 5000


def _terminal(db: peewee.Database, terminal_id: str) -> Terminal:
    term = Terminal.select().where(Terminal.id == terminal_id).bind(db).first()
    if term is None:
        raise LookupError(f"{terminal_id} is not a registered terminal")
    return term


def _entries(
    db: peewee.Database, terminal_id: str, first: int = 1, last: int | None = None
) -> Iterator[Entry]:
    """The terminal's stored entries from seq ``first`` (to ``last``), in seq order, a
    page at a time (a journal of years does not sit in memory)."""
    after = first - 1
    while True:
        query = Entry.select().where((Entry.terminal_id == terminal_id) & (Entry.seq > after))
        if last is not None:
            query = query.where(Entry.seq <= last)
        page = list(query.order_by(Entry.seq).limit(PAGE).bind(db))
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def _z_entries(db: peewee.Database, terminal_id: str) -> list[tuple[int, dict]]:
    rows = (
        Entry.select(Entry.seq, Entry.payload_json)
        .where((Entry.terminal_id == terminal_id) & (Entry.type == "z_report"))
        .order_by(Entry.seq)
        .tuples()
        .bind(db)
    )
    return [(seq, json.loads(text)) for seq, text in rows]


@dataclass(frozen=True)
class ZCheck:
    """A Z report as journaled and as rebuilt from the fleet's entries."""

    terminal_id: str
    number: int
    seq: int  # the Z report's own entry
    journaled: dict[str, Any]  # its figures as the terminal journaled (and printed) them
    rebuilt: dict[str, Any]  # the same figures from the fleet's entries
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name: (j, r)

    @property
    def ok(self) -> bool:
        return not self.differences


def _find_z(db: peewee.Database, terminal_id: str, z_number: int) -> tuple[int, dict, int]:
    """(its seq, its payload, the first seq it covers)."""
    found = None
    previous_last = 0
    before = 0
    for seq, payload in _z_entries(db, terminal_id):
        if payload.get("z_number") == z_number:
            found = (seq, payload)
            previous_last = before
        before = payload.get("last_seq", before)
    if found is None:
        raise LookupError(f"{terminal_id} has no Z report {z_number} in the fleet's copy")
    return found[0], found[1], previous_last + 1


def z_report_figures(
    db: peewee.Database,
    terminal_id: str,
    z_number: int,
    *,
    prices_include_tax: bool = True,
) -> Figures:
    """The figures of the terminal's Z report ``z_number``, rebuilt from the stored
    entries it covered: from the entry after the previous Z's last one (the terminal's
    rule: ``Shifts.report`` since ``_last_z_seq() + 1``) to its own ``last_seq``.
    LookupError for an unknown terminal or Z number."""
    term = _terminal(db, terminal_id)
    _seq, payload, first = _find_z(db, terminal_id, z_number)
    entries = (
        {"seq": e.seq, "type": e.type, "ts": e.ts, "payload": json.loads(e.payload_json)}
        for e in _entries(db, terminal_id, first, int(payload["last_seq"]))
    )
    return build_figures(entries, ZoneInfo(term.timezone), prices_include_tax=prices_include_tax)


def check_z_report(db: peewee.Database, terminal_id: str, z_number: int) -> ZCheck:
    """The Z report as journaled against the one rebuilt, figure by figure."""
    seq, payload, _first = _find_z(db, terminal_id, z_number)
    journaled = {k: v for k, v in payload.items() if k not in Z_FIELDS}
    rebuilt = json.loads(json.dumps(z_report_figures(db, terminal_id, z_number).to_payload()))
    differences = {
        name: (journaled.get(name), rebuilt.get(name))
        for name in sorted(set(journaled) | set(rebuilt))
        if journaled.get(name) != rebuilt.get(name)
    }
    return ZCheck(terminal_id, z_number, seq, journaled, rebuilt, differences)


@dataclass(frozen=True)
class DaySales:
    """One terminal's business day. ``total``: the goods after discounts; ``paid``: what
    customers paid (after cash rounding); ``refunds``: what refunds paid back."""

    store: str
    terminal_id: str
    count: int = 0
    total: int = 0
    paid: int = 0
    refund_count: int = 0
    refunds: int = 0


def sales_by_day(db: peewee.Database, day: date, *, store: str | None = None) -> list[DaySales]:
    """Sales and refunds of a business day (each terminal's, in its time zone), per store
    and terminal, by store then terminal."""
    sales = Sale.select(
        Sale.store,
        Sale.terminal_id,
        fn.COUNT(Sale.seq),
        fn.COALESCE(fn.SUM(Sale.total), 0),
        fn.COALESCE(fn.SUM(Sale.paid), 0),
    ).where(Sale.business_day == day)
    refunds = Refund.select(
        Refund.store,
        Refund.terminal_id,
        fn.COUNT(Refund.seq),
        fn.COALESCE(fn.SUM(Refund.paid), 0),
    ).where(Refund.business_day == day)
    if store is not None:
        sales = sales.where(Sale.store == store)
        refunds = refunds.where(Refund.store == store)
    found: dict[tuple[str, str], dict] = {}
    for shop, tid, count, total, paid in (
        sales.group_by(Sale.store, Sale.terminal_id).tuples().bind(db)
    ):
        found[(shop, tid)] = {"count": count, "total": int(total), "paid": int(paid)}
    for shop, tid, count, paid in (
        refunds.group_by(Refund.store, Refund.terminal_id).tuples().bind(db)
    ):
        found.setdefault((shop, tid), {}).update(refund_count=count, refunds=int(paid))
    return [DaySales(shop, tid, **values) for (shop, tid), values in sorted(found.items())]


def open_alerts_by_terminal(db: peewee.Database) -> dict[str, int]:
    """How many alerts are open, per terminal."""
    rows = (
        Alert.select(Alert.terminal_id, fn.COUNT(Alert.id))
        .where(Alert.resolved == False)  # noqa: E712
        .group_by(Alert.terminal_id)
        .tuples()
        .bind(db)
    )
    return {tid: count for tid, count in rows if tid is not None}


_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def _sodium_check(batch: list) -> list[int]:
    """``journal_format.BatchCheck`` by libsodium (PyNaCl): the bad signatures' seqs."""
    bad = []
    raw: dict[int, bytes] = {}
    for seq, key, signature, digest in batch:
        public = raw.get(id(key)) or raw.setdefault(id(key), key.public_bytes(*_RAW))
        try:
            crypto_sign_open(signature + digest, public)
        except (BadSignatureError, ValueError):
            bad.append(seq)
    return bad


def verify_chain(db: peewee.Database, terminal_id: str) -> Verdict:
    """Walk the terminal's chain as the fleet holds it: each link, hash and signature (by
    the terminal's registered keys), across epochs (a declared gap is a note), and that
    it reaches the head the fleet acknowledged. The verdict names the first bad entry.
    LookupError for an unknown terminal."""
    term = _terminal(db, terminal_id)
    keys = terminal_keys(db, terminal_id)
    head = (
        Head(term.acked_seq, term.acked_hash, term.acked_epoch or None) if term.acked_seq else None
    )
    return verify_entries(
        (e.as_journal_entry() for e in _entries(db, terminal_id)),
        keys,
        expected_head=head,
        check=_sodium_check,
    )
