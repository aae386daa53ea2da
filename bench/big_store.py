"""A terminal's store after years of a busy shop, for the benchmarks that must not grow with
the years: ``add_history(settings, sales)`` appends ``sales`` cash sales of 3 lines each,
spread over the past five years, with their tax and tender rows and their journal entries
(chained and signed with the terminal's own key, as the terminal writes them), then moves
the counters and the key store's memory on, so the terminal starts on it as on its own.

Rows go in through the terminal's schema in large transactions, not through the sale
path: 500,000 sales take about a minute here instead of several.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from terminal.config import Settings
from terminal.core.clock import system_clock
from terminal.services.bootstrap import open_store
from terminal.store.continuity import memory_of, read_state
from terminal.store.journal import fast_signer, head
from terminal.store.journal_format import canonical_json, entry_hash

BATCH = 20_000
YEARS = 5


def add_history(settings: Settings, sales: int) -> float:
    """Append ``sales`` sales; returns the seconds it took."""
    start = time.perf_counter()
    keys, db, journal = open_store(settings, system_clock, check=False)
    con = db.connection()
    sign = fast_signer(keys.journal_private_key())
    last = head(db)
    prev, seq, total = bytes.fromhex(last.hash), last.seq, last.grand_total
    epoch = last.epoch
    first_id = con.execute("SELECT IFNULL(MAX(id), 0) FROM sale").fetchone()[0]
    first_number = con.execute("SELECT IFNULL(MAX(number), 0) FROM sale").fetchone()[0]
    begin = datetime.now(UTC) - timedelta(days=365 * YEARS)
    step = timedelta(days=365 * YEARS) / max(sales, 1)
    done = 0
    while done < sales:
        rows, lines, taxes, tenders, entries = [], [], [], [], []
        for i in range(done, min(sales, done + BATCH)):
            sale_id, number = first_id + i + 1, first_number + i + 1
            at = begin + step * i
            rows.append(
                (
                    sale_id,
                    "T01",
                    number,
                    at.replace(tzinfo=None).isoformat(" "),
                    1,
                    "IDR",
                    1,
                    15766,
                    1734,
                    17500,
                    0,
                    f"RT01{number:08d}X",
                )
            )
            lines.extend(
                (sale_id, p, "KOPI-KPL", "Kopi Kapal Api 165 g", 1000, 5833, 5833, "PPN")
                for p in (1, 2, 3)
            )
            taxes.append((sale_id, "PPN", "PPN", "11", 15766, 1734))
            tenders.append((sale_id, "cash", 17500, 20000, 2500))
            seq += 1
            total += 17500
            payload = canonical_json(
                {
                    "number": number,
                    "total": 17500,
                    "lines": [{"sku": "KOPI-KPL", "quantity": "1", "amount": 5833}] * 3,
                    "tenders": [{"kind": "cash", "amount": 17500}],
                }
            ).decode()
            entry = {
                "epoch": epoch,
                "seq": seq,
                "terminal_id": settings.terminal_id,
                "key_id": journal.key_id,
                "type": "sale",
                "ts": at.isoformat(timespec="milliseconds"),
                "grand_total": total,
                "payload_json": payload,
            }
            digest = entry_hash(prev, entry)
            entries.append(
                (
                    seq,
                    settings.terminal_id,
                    journal.key_id,
                    "sale",
                    entry["ts"],
                    total,
                    payload,
                    prev.hex(),
                    digest.hex(),
                    sign(digest).hex(),
                    epoch,
                )
            )
            prev = digest
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            "INSERT INTO sale (id, terminal_id, number, created_at, cashier_id, currency,"
            " prices_include_tax, net, tax, total, rounding, return_code)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
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
            "INSERT INTO tender (sale_id, kind, amount, tendered, change) VALUES (?,?,?,?,?)",
            tenders,
        )
        con.executemany(
            "INSERT INTO journal (seq, terminal_id, key_id, type, ts, grand_total, payload,"
            " prev_hash, hash, signature, epoch) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            entries,
        )
        con.execute("COMMIT")
        done += len(rows)
    con.execute("BEGIN IMMEDIATE")
    con.execute(
        "INSERT INTO counter (terminal_id, last_number) VALUES (?, ?) ON CONFLICT (terminal_id)"
        " DO UPDATE SET last_number = excluded.last_number",
        (settings.terminal_id, first_number + sales),
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    keys.remember(memory_of(read_state(db), settings.terminal_id, "bench", system_clock()))
    db.close()
    return time.perf_counter() - start


def describe(settings: Settings) -> str:
    size = settings.database_path.stat().st_size
    return f"{size / 2**20:.0f} MiB"


if __name__ == "__main__":  # python bench/big_store.py CONFIG SALES: fill a terminal's store
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from terminal.config import load_settings

    target = load_settings(Path(sys.argv[1]))
    print(f"{add_history(target, int(sys.argv[2])):.0f} s, {describe(target)}")
    print(json.dumps({"database": str(target.database_path)}))
