"""Bank reconciliation of online orders (issue 18): a 10,000-line statement read from
its CSV and matched against 5,000 open book orders, median of 5.

The statement: 5,000 transfers that pay a booking (one in ten of them among bookings due
the same amount, so the payer's name decides), 2,000 debits, 3,000 credits that pay
nothing. Baseline, in the same run: the plain dictionary lookup by amount over the same
parsed lines (no window, no names, no second look). Goal: the whole match under 2 s.

    python bench/statement_match.py
    BENCH_QUICK=1 python bench/statement_match.py   # a tenth of the size, for the tests
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fleet.orders.matching import BY_NAME, MATCHED, OpenBooking, match  # noqa: E402
from fleet.orders.statements import ColumnMapping, read_csv  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SCALE = 10 if QUICK else 1
LINES, BOOKINGS = 10_000 // SCALE, 5_000 // SCALE
RUNS = 5
JAKARTA = ZoneInfo("Asia/Jakarta")
FIRST = ["Budi", "Siti", "Dewi", "Agus", "Rina", "Andi", "Putri", "Joko", "Wati", "Hadi"]
LAST = ["Santoso", "Aminah", "Lestari", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Nugroho"]
MAPPING = ColumnMapping(
    date="Tanggal",
    description="Keterangan",
    amount="Jumlah",
    decimal_sep=".",
    thousands_sep=",",
)


def scenario(rng: Random) -> tuple[str, list[OpenBooking]]:
    start = datetime(2026, 11, 27, 9, tzinfo=JAKARTA)
    bookings, rows = [], ["Tanggal,Keterangan,Jumlah"]
    for i in range(BOOKINGS):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
        # one in ten shares its amount with the booking before it: names decide
        due = bookings[-1].due if i % 10 == 1 else 50_000 + i * 1_000 + rng.randrange(1, 999)
        booked = start + timedelta(minutes=i % 600)
        bookings.append(OpenBooking(f"B{i:07d}", due, name, booked, booked + timedelta(hours=24)))
        rows.append(
            f'27/11/2026,TRSF E-BANKING CR 2711/FTSCY/WS{i:05d} {name.upper()},"{due:,}.00 CR"'
        )
    for i in range(LINES * 2 // 10):
        rows.append(f'27/11/2026,BIAYA TRANSFER {i},"{rng.randrange(1, 99) * 1000:,}.00 DB"')
    while len(rows) <= LINES:
        rows.append(
            f'28/11/2026,SETORAN TUNAI {len(rows)},"{rng.randrange(1, 10**6) * 7 + 3:,}.00 CR"'
        )
    return "\n".join(rows) + "\n", bookings


def median_s(fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    text, bookings = scenario(Random(18))
    lines = read_csv(text, MAPPING)
    read_s, _ = median_s(lambda: read_csv(text, MAPPING))
    match_s, proposals = median_s(lambda: match(lines, bookings))
    by_amount = {}
    for b in bookings:
        by_amount.setdefault(b.due, b)

    def plain():
        return [by_amount.get(line.amount) for line in lines if line.amount > 0]

    plain_s, _ = median_s(plain)
    paid = sum(1 for p in proposals if p.outcome in (MATCHED, BY_NAME))
    by_name = sum(1 for p in proposals if p.outcome == BY_NAME)
    assert paid >= BOOKINGS * 0.95, (
        f"only {paid} of {BOOKINGS} bookings matched: the bench is wrong"
    )
    print(f"{len(lines):,}-line statement, {len(bookings):,} open bookings (median of {RUNS})")
    print(f"read the CSV:                    {read_s * 1000:8.1f} ms")
    found = f"{paid:,} paid, {by_name:,} by name"
    print(f"match (window, names, once):     {match_s * 1000:8.1f} ms   {found}")
    print(f"read + match:                    {(read_s + match_s) * 1000:8.1f} ms (goal < 2000 ms)")
    print(f"baseline, dict lookup by amount: {plain_s * 1000:8.1f} ms")
    print(f"ratio match / dict lookup: {match_s / plain_s:.1f}x")


if __name__ == "__main__":
    main()
