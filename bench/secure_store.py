"""Secure store figures, each against a baseline run alongside.

1. End-of-day report over 200,000 sales (1,000,000 lines, 200,000 tax and tender rows) on
   the encrypted store, against the same query on a plain SQLite copy. Goal: under 1 s.
2. Journal verify rate (SHA-256 chain + Ed25519 per entry), against the chain alone: as
   `pos-terminal journal verify` does it on the terminal (each signature made again with
   the terminal's key and compared: Ed25519 is deterministic) and with the public key only,
   as an auditor does. Goal: at least 20,000 entries/s.
3. PIN verify time with the default Argon2id parameters (with the pepper), against the
   cheap parameters the tests use. Calibrate the default to 100-250 ms on a Pi 4.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal.store.cashiers import DEFAULT_PARAMS, FAST_TEST_PARAMS, PinHasher
from terminal.store.db import open_database
from terminal.store.journal import Journal, read_entries
from terminal.store.journal_format import GENESIS, entry_hash
from terminal.store.reports import period_totals

# BENCH_QUICK=1: a few rounds only, so the tests can check that the benchmark runs
QUICK = os.environ.get("BENCH_QUICK") == "1"
SALES = 2_000 if QUICK else 200_000
LINES_PER_SALE = 5
JOURNAL_ENTRIES = 200 if QUICK else 20_000
DAY = datetime(2026, 11, 23)


def fill(con) -> None:
    """200,000 sales of 5 lines over one day, with their tax and tender rows."""
    con.execute("BEGIN")
    con.execute(
        "INSERT OR IGNORE INTO cashier (id, name, role, pin_hash, active, peppered)"
        " VALUES (1, 'A', 'cashier', 'x', 1, 1), (2, 'B', 'cashier', 'x', 1, 1)"
    )
    step = 86400 / SALES
    sales, lines, taxes, tenders = [], [], [], []
    for n in range(1, SALES + 1):
        at = (DAY + timedelta(seconds=(n - 1) * step)).isoformat(" ")
        sales.append((n, "T01", n, at, 1 + n % 2, "IDR", 1, 9910, 1090, 11000, 0, f"R{n}"))
        lines.extend((n, p, "SKU", "Name", 1000, 2200, 2200, "PPN") for p in range(1, 6))
        taxes.append((n, "PPN", "PPN", "11", 9910, 1090))
        tenders.append((n, "cash" if n % 3 else "card", 11000, 11000, 0))
    con.executemany(
        "INSERT INTO sale (id, terminal_id, number, created_at, cashier_id,"
        " currency, prices_include_tax, net, tax, total, rounding, return_code)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        sales,
    )
    con.executemany(
        "INSERT INTO sale_line (sale_id, position, sku, name, quantity_milli, unit_price,"
        " amount, tax_class) VALUES (?,?,?,?,?,?,?,?)",
        lines,
    )
    con.executemany(
        "INSERT INTO sale_tax (sale_id, code, name, rate, base, amount) VALUES (?,?,?,?,?,?)",
        taxes,
    )
    con.executemany(
        "INSERT INTO tender (sale_id, kind, amount, tendered, change) VALUES (?,?,?,?,?)", tenders
    )
    con.execute("COMMIT")


def report_bench(tmp: Path) -> None:
    db = open_database(tmp / "secure.db", os.urandom(32))
    t0 = time.perf_counter()
    fill(db.connection())
    fill_s = time.perf_counter() - t0
    plain_db = open_database(tmp / "plain.db", None)
    fill(plain_db.connection())

    def timed(database) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            totals = period_totals(database, DAY, DAY + timedelta(days=1))
            runs.append(time.perf_counter() - start)
        assert totals.sales == SALES and sum(totals.by_tender.values()) == totals.total
        return statistics.median(runs)

    ours, base = timed(db), timed(plain_db)
    print(
        f"End-of-day report, {SALES:,} sales / {SALES * LINES_PER_SALE:,} lines "
        f"(filled in {fill_s:.1f} s)"
    )
    print(f"  plain SQLite     : {base * 1000:.0f} ms")
    print(
        f"  SQLCipher store  : {ours * 1000:.0f} ms   ratio {ours / base:.2f}x   "
        f"goal < 1000 ms: {'met' if ours < 1 else 'NOT met'}"
    )
    db.close()
    plain_db.close()


def sale_payload(n: int) -> dict:
    """The shape and size of a real 5-line cash sale's journal payload (about 1 KB)."""
    lines = [
        {
            "sku": f"SKU-{p}",
            "quantity": "1",
            "unit_price": 2200,
            "amount": 2200,
            "tax_class": "PPN",
            "discount": 0,
        }
        for p in range(5)
    ]
    return {
        "number": n,
        "return_code": f"RT01{n:08d}7",
        "cashier": 1,
        "currency": "IDR",
        "lines": lines,
        "taxes": [{"code": "PPN", "rate": "11", "base": 9910, "amount": 1090}],
        "net": 9910,
        "tax": 1090,
        "rounding": 0,
        "total": 11000,
        "tenders": [{"kind": "cash", "amount": 11000, "tendered": 20000, "change": 9000}],
        "shift": 1,
        "customer": None,
        "discount": 0,
        "points_earned": 0,
    }


def journal_bench(tmp: Path) -> None:
    db = open_database(tmp / "journal.db", os.urandom(32))
    journal = Journal(db, "T01", Ed25519PrivateKey.generate())
    at = datetime(2026, 11, 23, tzinfo=UTC)
    with db.atomic():
        for n in range(JOURNAL_ENTRIES):
            journal.append("sale", sale_payload(n), at, amount=11000)

    def verify(public_key_only: bool) -> float:
        start = time.perf_counter()
        verdict = journal.verify(public_key_only=public_key_only)
        assert verdict.ok and verdict.entries == JOURNAL_ENTRIES
        return time.perf_counter() - start

    def chain_only() -> float:
        """The same rows read the same way, the hash chain walked, no signature checked."""
        start = time.perf_counter()
        prev = GENESIS
        for entry in read_entries(db, decode=False):
            prev = entry_hash(prev, entry)
        return time.perf_counter() - start

    chain = statistics.median(chain_only() for _ in range(3))
    own = statistics.median(verify(False) for _ in range(3))
    public = statistics.median(verify(True) for _ in range(3))
    n = JOURNAL_ENTRIES
    print(f"Journal verify, {n:,} sale entries of ~1 KB (read from the encrypted store)")
    print(f"  chain only (SHA-256)                      : {n / chain:,.0f} entries/s")
    print(
        f"  pos-terminal journal verify (own key)     : {n / own:,.0f} entries/s   "
        f"ratio {own / chain:.2f}x   goal >= 20,000/s: {'met' if n / own >= 20000 else 'NOT met'}"
    )
    print(
        f"  public key only (as an auditor verifies)  : {n / public:,.0f} entries/s   "
        f"ratio {public / chain:.2f}x"
    )
    db.close()


def pin_bench() -> None:
    pepper = os.urandom(32)

    def verify_time(params) -> float:
        hasher = PinHasher(pepper, params)
        phc = hasher.hash("135790")
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            assert hasher.matches("135790", phc)
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    fast, default = verify_time(FAST_TEST_PARAMS), verify_time(DEFAULT_PARAMS)
    p = DEFAULT_PARAMS
    print(f"PIN verify (Argon2id with pepper), m={p.memory_cost} KiB t={p.iterations} p={p.lanes}")
    print(f"  test parameters (m=1024 t=1 p=1): {fast * 1000:.1f} ms")
    print(
        f"  default parameters              : {default * 1000:.0f} ms   ratio {default / fast:.0f}x"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report_bench(Path(tmp))
        journal_bench(Path(tmp))
    pin_bench()


if __name__ == "__main__":
    main()
