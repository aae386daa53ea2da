"""Fixtures of the fleet tests: the fleet database on SQLite and on a real PostgreSQL
(started once per session), terminals' journals made by the terminal's own code (a bare
``Journal`` for quick tests, a whole shop day through the services for the central
tables), and helpers to turn them into the messages the agent sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import msgspec
import peewee
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.registry import register_terminal
from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.core.approval import PAID_ORDERS
from terminal.core.clock import ManualClock
from terminal.store.journal import Journal, JournalEntry, create_journal, read_entries
from tests.conftest import load_doc
from tests.postgres import start_postgres
from tests.services.test_day_report import BREAD, COFFEE, TEA, english, run_day

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


# -- the fleet database ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL for the whole session (a fresh database per test)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_url(request, tmp_path):
    """The URL of an empty fleet database, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet' / 'fleet.db'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def fleet_db(fleet_url):
    db = connect(fleet_url)
    create_tables(db)
    yield db
    db.close()


@pytest.fixture
def fleet_clock():
    return ManualClock(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))


@pytest.fixture
def ingest(fleet_db, fleet_clock):
    return Ingest(fleet_db, clock=fleet_clock)


# -- the terminals' journals -------------------------------------------------------------------
def to_entry(stored: dict) -> fp.Entry:
    """A journal row (``read_entries(decode=False)``) as the agent sends it."""
    return fp.Entry(**{name: stored[name] for name in fp.Entry.__struct_fields__})


def batch(entries: list[fp.Entry], head: int | None = None, terminal_id: str | None = None):
    return fp.JournalBatch(
        terminal_id or entries[0].terminal_id,
        list(entries),
        head=head or max(e.seq for e in entries),
    )


def replace(entry: fp.Entry, **changes) -> fp.Entry:
    return msgspec.structs.replace(entry, **changes)


@dataclass
class BareTerminal:
    """A terminal's journal alone (plain SQLite), made by ``terminal.store.journal``."""

    directory: Path
    terminal_id: str = "T01"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    name: str = "journal"

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.db = peewee.SqliteDatabase(str(self.directory / f"{self.name}.db"))
        create_journal(self.db)
        self.journal = Journal(self.db, self.terminal_id, self.key)
        self.at = T0

    def add(self, count: int = 1, event_type: str = "no_sale") -> list[fp.Entry]:
        """``count`` more entries; returns them."""
        made = []
        for _ in range(count):
            self.at += timedelta(seconds=7)
            made.append(
                self.journal.append(
                    event_type, {"shift": 1, "cashier": 1, "reason": "change"}, self.at
                )
            )
        return self.entries(made[0].seq)

    def entries(self, since: int = 1) -> list[fp.Entry]:
        return [to_entry(e) for e in read_entries(self.db, decode=False, since=since)]

    def head(self) -> JournalEntry:
        last = self.entries()[-1]
        return JournalEntry(last.seq, last.hash, last.epoch, last.grand_total)

    def copy_of(self, upto: int, name: str, key: Ed25519PrivateKey | None = None):
        """Another database with this journal's entries up to ``upto``: a backup restored
        elsewhere, or a cloned terminal (``key``: the journal key it goes on with)."""
        other = BareTerminal(self.directory, self.terminal_id, key or self.key, name=name)
        columns = (
            "seq, terminal_id, key_id, type, ts, grand_total, payload, prev_hash, hash,"
            " signature, epoch"
        )
        for e in read_entries(self.db, decode=False):
            if e["seq"] > upto:
                break
            other.db.execute_sql(
                f"INSERT INTO journal ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(
                    e["payload_json" if column == "payload" else column]
                    for column in columns.split(", ")
                ),
            )
        other.at = self.at
        return other

    def public_key_pem(self) -> bytes:
        return self.journal.public_key_pem()

    def register(self, db, *, store: str = "S1", group: str = "G1", tz: str = "UTC") -> str:
        return register_terminal(
            db,
            self.terminal_id,
            store=store,
            group=group,
            public_key_pem=self.public_key_pem(),
            timezone=tz,
        )


@pytest.fixture
def bare(tmp_path):
    return BareTerminal(tmp_path / "T01")


# -- a shop's two days, through the terminal's services -----------------------------------------
@dataclass(frozen=True)
class ShopDays:
    terminal_id: str
    timezone: str
    public_key_pem: bytes
    entries: list[fp.Entry]
    z1: dict  # the first Z report's entry payload (what printed)
    z2_printed: dict  # the second Z report's figures as the terminal printed them
    z2_own: dict  # the terminal's own report (shifts.report) just before the second Z


def second_day(built, clock) -> tuple[dict, dict]:
    """The next day: a shift of three sales (cash, card, split), a refund in cash, a
    cash out, the close with its count, the terminal's own day report, the Z."""
    pos = built.pos
    clock.now = T0 + timedelta(days=1)  # 10:00 in Jakarta
    pos.shifts.open(100000)
    pos.scan(TEA)
    pos.scan(COFFEE)
    tea_sale = pos.pay_cash(50000).committed
    clock.advance(600)
    pos.scan(BREAD)
    pos.pay_card()
    clock.advance(600)
    pos.scan(COFFEE)
    pos.pay_card(5000)
    pos.pay_cash(10000)
    clock.advance(600)
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(
        pos.refunds.find(tea_sale.return_code), [(1, D(1), True)], "defective", approval
    )
    clock.advance(600)
    pos.shifts.cash_move("cash_out", 20000, "bank_deposit")
    clock.advance(3600)
    pos.shifts.close({100000: 1, 20000: 1, 5000: 1, 500: 1})
    own = pos.shifts.report(shift_only=False).to_payload()
    printed = pos.shifts.z_report().report.to_payload()
    return own, printed


@pytest.fixture(scope="session")
def shop_days(tmp_path_factory) -> ShopDays:
    """The demo shop's day of every kind of transaction and Z report 1 (the services
    tests' day), then a second day and Z report 2: the terminal's journal as entries."""
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path_factory.mktemp("shop") / "var")
    settings = english(parse_settings(doc))
    clock = ManualClock(T0)
    built = run_day(settings, clock)
    try:
        own, printed = second_day(built, clock)
        rows = list(read_entries(built.pos.db, decode=False))
        z_reports = [e["payload"] for e in read_entries(built.pos.db, types=("z_report",))]
        return ShopDays(
            terminal_id=settings.terminal_id,
            timezone=str(settings.store.timezone),
            public_key_pem=built.pos.journal.public_key_pem(),
            entries=[to_entry(row) for row in rows],
            z1=z_reports[0],
            z2_printed=printed,
            z2_own=own,
        )
    finally:
        built.devices.close()
