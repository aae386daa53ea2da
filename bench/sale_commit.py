"""A complete 5-line cash sale committed through the store, against plain sqlite3.

Both write the same rows (sale, 5 lines, 1 tax row, 1 tender, the counter) into a file
database with the same pragmas (WAL, synchronous=FULL), one transaction per sale. Ours
also encrypts (SQLCipher) and writes the signed journal entry in the same transaction,
so the ratio is the cost of the domain objects, encryption and the journal over the
fsync-bound floor of plain sqlite3.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terminal.config import parse_settings
from terminal.core.cart import Cart
from terminal.core.sale import sale_from_cart
from terminal.core.tender import finish_with_cash
from terminal.services.bootstrap import seed_demo
from terminal.services.demo import demo_products
from terminal.store.cashiers import FAST_TEST_PARAMS, PinHasher
from terminal.store.catalogue_repo import load_catalogue
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.keystore import FileKeyStore
from terminal.store.sales import commit_sale
from terminal.store.sealing import Sealer

# BENCH_QUICK=1: a few rounds only, so the tests can check that the benchmark runs
QUICK = os.environ.get("BENCH_QUICK") == "1"
SALES = 10 if QUICK else 300
# five different demo products, by their barcodes
CODES = [p.barcodes[0] for p in demo_products() if p.barcodes][:5]
ROOT = Path(__file__).resolve().parent.parent


def settings_for(data_dir: Path):
    with (ROOT / "config" / "pos.toml").open("rb") as fh:
        doc = tomllib.load(fh)
    doc["terminal"]["data_dir"] = str(data_dir)
    return parse_settings(doc)


def ours(data_dir: Path) -> list[float]:
    settings = settings_for(data_dir)
    keys = FileKeyStore.open_or_create(data_dir / "keys")
    db = open_database(settings.database_path, keys.key("database"))
    journal = Journal(db, "T01", keys.journal_private_key())
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    seed_demo(
        PinHasher(keys.key("pin_pepper"), FAST_TEST_PARAMS),
        settings,
        Sealer(keys.key("sealing")),
        now,
    )
    catalogue = load_catalogue(settings.tax_classes, settings.weighed_formats)
    codes = [c for c in CODES if _known(catalogue, c)][:5]
    while len(codes) < 5:
        codes.append(codes[0])
    times = []
    for _ in range(SALES):
        start = time.perf_counter()
        cart = Cart(catalogue, lambda: now, prices_include_tax=True)
        for code in codes:
            cart.add_code(code)
        payment = finish_with_cash(cart.total, (), cart.total, settings.store.currency, 1)
        sale = sale_from_cart(
            cart,
            payment,
            terminal_id="T01",
            cashier_id=1,
            cashier_name="Sari",
            currency="IDR",
            created_at=now,
        )
        commit_sale(db, sale, journal)
        times.append(time.perf_counter() - start)
    db.close()
    return times


def _known(catalogue, code: str) -> bool:
    try:
        catalogue.lookup(code)
    except Exception:
        return False
    return True


def baseline(data_dir: Path) -> list[float]:
    con = sqlite3.connect(data_dir / "plain.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=1")
    con.executescript("""
        CREATE TABLE counter (terminal_id TEXT PRIMARY KEY, last_number INTEGER);
        CREATE TABLE sale (id INTEGER PRIMARY KEY, terminal_id TEXT, number INTEGER,
            created_at TEXT, cashier_id INTEGER, currency TEXT, prices_include_tax INTEGER,
            net INTEGER, tax INTEGER, total INTEGER, rounding INTEGER, return_code TEXT UNIQUE,
            UNIQUE (terminal_id, number));
        CREATE TABLE sale_line (sale_id INTEGER REFERENCES sale(id), position INTEGER,
            sku TEXT, name TEXT, quantity_milli INTEGER, unit_price INTEGER, amount INTEGER,
            tax_class TEXT, PRIMARY KEY (sale_id, position));
        CREATE TABLE sale_tax (sale_id INTEGER REFERENCES sale(id), code TEXT, name TEXT,
            rate TEXT, base INTEGER, amount INTEGER, PRIMARY KEY (sale_id, code, rate));
        CREATE TABLE tender (id INTEGER PRIMARY KEY, sale_id INTEGER REFERENCES sale(id),
            kind TEXT, amount INTEGER, tendered INTEGER, change INTEGER);
        INSERT INTO counter VALUES ('T01', 0);
    """)
    times = []
    for n in range(1, SALES + 1):
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE counter SET last_number = last_number + 1 WHERE terminal_id='T01'")
        cur = con.execute(
            "INSERT INTO sale (terminal_id, number, created_at, cashier_id, currency,"
            " prices_include_tax, net, tax, total, rounding, return_code)"
            " VALUES ('T01', ?, '2026-11-23 03:00:00', 1, 'IDR', 1, 30000, 3300, 33300, 0, ?)",
            (n, f"R{n}"),
        )
        sale_id = cur.lastrowid
        con.executemany(
            "INSERT INTO sale_line VALUES (?, ?, 'SKU', 'Name', 1000, 5500, 5500, 'PPN')",
            [(sale_id, p) for p in range(1, 6)],
        )
        con.execute("INSERT INTO sale_tax VALUES (?, 'PPN', 'PPN', '11', 30000, 3300)", (sale_id,))
        con.execute(
            "INSERT INTO tender (sale_id, kind, amount, tendered, change)"
            " VALUES (?, 'cash', 33300, 33300, 0)",
            (sale_id,),
        )
        con.execute("COMMIT")
        times.append(time.perf_counter() - start)
    con.close()
    return times


def main() -> None:
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
        base = baseline(Path(tmp))
        mine = ours(Path(tmp) / "ours")
    b_med, m_med = statistics.median(base) * 1000, statistics.median(mine) * 1000
    print(f"5-line cash sale commit, {SALES} sales, WAL + synchronous=FULL, file on disk")
    print(f"  plain sqlite3 : median {b_med:.3f} ms   p95 {_p95(base) * 1000:.3f} ms")
    print(f"  pos store     : median {m_med:.3f} ms   p95 {_p95(mine) * 1000:.3f} ms")
    print(f"  ratio         : {m_med / b_med:.2f}x")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


if __name__ == "__main__":
    main()
