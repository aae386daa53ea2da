"""The console's heavy pages on a big fleet: "Sales now" for the whole fleet, a store's
end-of-month report, and (issue 19) a store's stock on hand and its month's margin per
product, with 2,000,000 sales (10,000,000 lines) from 500 terminals and 50,000 stock
movements per store in a real PostgreSQL (Debian's, initdb into a temporary directory),
timed on the server side (the query functions the pages call), median of 20.

The fleet's tables are filled by SQL (``generate_series``), a month of trading in 100
stores of 5 terminals, each sale with 5 lines and one tender; the rollups the ingest keeps
are made from them by the fleet's own ``rebuild_rollups``-equivalent SQL (the same sums,
set-wise: a rebuild through Python would take an hour at this size).

Baseline, in the same run: the same figures from the sales tables themselves (``sale``
indexed on business day and store, ``sale_line``, ``sale_payment``), the plain way a
report would ask them; the stock as the sum of the store's movements in the ledger
(indexed on store, product and time), the margin from the month's sale lines. Goal
(issues 15 and 19): each under 300 ms.

    python bench/console_reports.py            # 2,000,000 sales (several minutes to fill)
    BENCH_QUICK=1 python bench/console_reports.py   # 20,000 sales, for the test suite
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fleet.console.access import Viewer  # noqa: E402
from fleet.console.period_report import Period, build  # noqa: E402
from fleet.console.sales_now import sales_now  # noqa: E402
from fleet.db import connect, create_tables  # noqa: E402
from fleet.inventory import on_hand  # noqa: E402
from fleet.margins import margin_report  # noqa: E402
from tests.postgres import start_postgres  # noqa: E402

STORES, PER_STORE, DAYS, LINES = 100, 5, 30, 5
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 8, 0)  # 15:00 in Jakarta
RUNS = 20


def fill(db, sales: int) -> None:
    """Terminals, sales with lines and tenders, then the rollups (set-wise SQL)."""
    terminals = STORES * PER_STORE
    first = TODAY - timedelta(days=DAYS - 1)
    run = db.execute_sql
    run(
        "INSERT INTO terminal (id, store, terminal_group, timezone, registered_at, status, "
        "acked_seq, acked_hash, acked_epoch, reported_head, duplicates, software) "
        "SELECT 'T' || lpad(n::text, 4, '0'), 'Store ' || lpad(((n - 1) / %s + 1)::text, 3, '0'), "
        "'bench', 'Asia/Jakarta', now(), 'online', 0, repeat('0', 64), 0, 0, 0, '' "
        "FROM generate_series(1, %s) n",
        (PER_STORE, terminals),
    )  # (the terminal T0001 is n = 1: the sales' mod(n, terminals) + 1 names the same)
    # sale n: terminal mod(n, terminals) + 1; day and hour spread evenly; seq per terminal
    tid = f"'T' || lpad((mod(n, {terminals}) + 1)::text, 4, '0')"
    store = f"'Store ' || lpad((mod(n, {terminals}) / {PER_STORE} + 1)::text, 3, '0')"
    seq = f"(n / {terminals} + 1)"
    day = f"(DATE '{first.isoformat()}' + mod(n / {terminals}, {DAYS}))"
    run(
        f"""INSERT INTO sale (terminal_id, seq, epoch, store, number, label, return_code, ts,
              business_day, currency, cashier, shift, total, paid, rounding, discount, net, tax,
              points_earned)
           SELECT {tid}, {seq}, 1, {store}, {seq}, 'x', '',
              {day} + make_interval(hours => 1 + mod(n, 13)), {day}, 'IDR', 1 + mod(n, 4), 1,
              50000, 50000, 0, 0, 45045, 4955, 0
           FROM generate_series(0, {sales - 1}) n"""
    )
    run(
        f"""INSERT INTO sale_line (terminal_id, sale_seq, position, sku, quantity, unit_price,
              amount, tax_class, discount, net, cost)
           SELECT s.terminal_id, s.seq, l,
              'SKU' || lpad(mod(s.seq * 7 + l * 13, 500)::text, 3, '0'), '1', 10000, 10000,
              'PPN', 0, 9009, 6000
           FROM sale s, generate_series(1, {LINES}) l"""
    )
    run(
        """INSERT INTO sale_payment (terminal_id, sale_seq, position, kind, amount)
           SELECT terminal_id, seq, 1, CASE WHEN mod(seq, 3) = 0 THEN 'card' ELSE 'cash' END, paid
           FROM sale"""
    )
    # the rollups, as the ingest adds them up (hours in Jakarta: UTC + 7)
    run(
        """INSERT INTO sales_hour (terminal_id, business_day, hour, store, currency, sales, paid,
              total, tax, discount, refunds, refunded, refund_goods, voids)
           SELECT terminal_id, business_day, extract(hour from ts + interval '7 hours')::int,
              min(store), 'IDR', count(*), sum(paid), sum(total), sum(tax), sum(discount),
              0, 0, 0, 0
           FROM sale GROUP BY 1, 2, 3"""
    )
    run(
        """INSERT INTO payment_day (terminal_id, business_day, kind, store, paid, payments,
              refunded)
           SELECT p.terminal_id, s.business_day, p.kind, min(s.store), sum(p.amount), count(*), 0
           FROM sale_payment p JOIN sale s ON s.terminal_id = p.terminal_id AND s.seq = p.sale_seq
           GROUP BY 1, 2, 3"""
    )
    run(
        """INSERT INTO product_day (store, business_day, sku, quantity_milli, amount, lines,
              returned_milli, returned_amount, net, cost, uncosted, uncosted_net, returned_net,
              returned_cost)
           SELECT s.store, s.business_day, l.sku, count(*) * 1000, sum(l.amount), count(*), 0, 0,
              sum(l.net), sum(l.cost), 0, 0, 0, 0
           FROM sale_line l JOIN sale s ON s.terminal_id = l.terminal_id AND s.seq = l.sale_seq
           GROUP BY 1, 2, 3"""
    )
    run(
        """INSERT INTO tax_day (store, business_day, code, rate, base, amount, sales)
           SELECT store, business_day, 'PPN', '11', sum(net), sum(tax), count(*)
           FROM sale GROUP BY 1, 2"""
    )
    run(
        f"""INSERT INTO cashier_day (terminal_id, business_day, cashier, store, sales, paid,
              discount, refunds, refunded, net, cost, uncosted, uncosted_net, returned_net,
              returned_cost)
           SELECT terminal_id, business_day, cashier, min(store), count(*), sum(paid),
              sum(discount), 0, 0, count(*) * {LINES} * 9009, count(*) * {LINES} * 6000, 0, 0,
              0, 0
           FROM sale GROUP BY 1, 2, 3"""
    )
    run("ANALYZE")


def fill_stock(db, per_store: int) -> None:
    """``per_store`` movements in each store's ledger (deliveries in, sales and damage out,
    over 500 products and the month), and the stock levels the ingest keeps from them."""
    first = TODAY - timedelta(days=DAYS - 1)
    db.execute_sql(
        f"""INSERT INTO stock_movement (terminal_id, seq, position, part, store, sku, quantity,
              kind, reason, ts, business_day)
           SELECT 'T' || lpad((mod(n, {STORES}) * {PER_STORE} + 1)::text, 4, '0'), n, 1, 1,
              'Store ' || lpad((mod(n, {STORES}) + 1)::text, 3, '0'),
              'SKU' || lpad(mod(n / {STORES}, 500)::text, 3, '0'),
              CASE WHEN mod(n, 10) = 0 THEN 24000 ELSE -1000 END,
              CASE WHEN mod(n, 10) = 0 THEN 'receiving' WHEN mod(n, 97) = 0 THEN 'damage'
                   ELSE 'sale' END, '',
              DATE '{first.isoformat()}' + mod(n, {DAYS}) + make_interval(hours => 10),
              DATE '{first.isoformat()}' + mod(n, {DAYS})
           FROM generate_series(1, {per_store * STORES}) n"""
    )
    db.execute_sql(
        """INSERT INTO stock_level (store, sku, quantity, movements)
           SELECT store, sku, sum(quantity), count(*) FROM stock_movement GROUP BY 1, 2"""
    )
    db.execute_sql("ANALYZE")


def plain_stock(db, store: str) -> list:
    """A store's stock as the sum of its movements (the ledger's index on store, sku, ts)."""
    return db.execute_sql(
        "SELECT sku, sum(quantity), count(*) FROM stock_movement WHERE store = %s GROUP BY 1",
        (store,),
    ).fetchall()


def plain_margin(db, store: str) -> list:
    """A store's month's margin per product from its sale lines."""
    first, last = TODAY.replace(day=1), TODAY.replace(day=30)
    return db.execute_sql(
        "SELECT l.sku, sum(l.net), sum(l.cost) FROM sale_line l JOIN sale s ON "
        "s.terminal_id = l.terminal_id AND s.seq = l.sale_seq WHERE s.store = %s AND "
        "s.business_day BETWEEN %s AND %s GROUP BY 1",
        (store, first, last),
    ).fetchall()


def plain_sales_now(db) -> list:
    """Today's figures from the sales tables: per store and terminal, by hour, by tender,
    top products (what the page shows), with the indexes the tables have."""
    run = db.execute_sql
    day = TODAY
    return [
        run(
            "SELECT store, terminal_id, count(*), sum(paid) FROM sale WHERE business_day = %s "
            "GROUP BY 1, 2",
            (day,),
        ).fetchall(),
        run(
            "SELECT extract(hour from ts + interval '7 hours'), sum(paid) FROM sale "
            "WHERE business_day = %s GROUP BY 1",
            (day,),
        ).fetchall(),
        run(
            "SELECT p.kind, sum(p.amount) FROM sale_payment p JOIN sale s ON "
            "s.terminal_id = p.terminal_id AND s.seq = p.sale_seq WHERE s.business_day = %s "
            "GROUP BY 1",
            (day,),
        ).fetchall(),
        run(
            "SELECT l.sku, sum(l.amount) a FROM sale_line l JOIN sale s ON "
            "s.terminal_id = l.terminal_id AND s.seq = l.sale_seq WHERE s.business_day = %s "
            "GROUP BY 1 ORDER BY a DESC LIMIT 10",
            (day,),
        ).fetchall(),
        run(
            "SELECT store, sum(paid) FROM sale WHERE business_day = %s GROUP BY 1",
            (day - timedelta(days=7),),
        ).fetchall(),
    ]


def plain_month(db, store: str) -> list:
    run = db.execute_sql
    first, last = TODAY.replace(day=1), TODAY.replace(day=30)
    where = "s.store = %s AND s.business_day BETWEEN %s AND %s"
    return [
        run(
            f"SELECT s.terminal_id, count(*), sum(s.paid), sum(s.total), sum(s.tax) FROM sale s "
            f"WHERE {where} GROUP BY 1",
            (store, first, last),
        ).fetchall(),
        run(
            f"SELECT s.terminal_id, s.cashier, count(*), sum(s.paid) FROM sale s WHERE {where} "
            "GROUP BY 1, 2",
            (store, first, last),
        ).fetchall(),
        run(
            "SELECT p.kind, sum(p.amount) FROM sale_payment p JOIN sale s ON "
            f"s.terminal_id = p.terminal_id AND s.seq = p.sale_seq WHERE {where} GROUP BY 1",
            (store, first, last),
        ).fetchall(),
        run(
            "SELECT l.sku, sum(l.amount) FROM sale_line l JOIN sale s ON "
            f"s.terminal_id = l.terminal_id AND s.seq = l.sale_seq WHERE {where} GROUP BY 1",
            (store, first, last),
        ).fetchall(),
    ]


def median_ms(call) -> float:
    call()  # warm
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    quick = "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"
    sales = 20_000 if quick else 2_000_000
    movements = 500 if quick else 50_000  # per store
    postgres = start_postgres()
    try:
        db = connect(postgres.new_database())
        create_tables(db)
        started = time.perf_counter()
        fill(db, sales)
        fill_stock(db, movements)
        lines = db.execute_sql("SELECT count(*) FROM sale_line").fetchone()[0]
        print(
            f"{sales:,} sales, {lines:,} lines, {STORES * PER_STORE} terminals in {STORES} "
            f"stores, {DAYS} days, {movements:,} stock movements per store "
            f"(filled in {time.perf_counter() - started:.0f} s)"
        )
        admin = Viewer("bench", "admin", None)
        store = "Store 001"
        month = Period("month", TODAY.replace(day=1), TODAY.replace(day=30))
        now_ms = median_ms(lambda: sales_now(db, admin, NOW))
        plain_now_ms = median_ms(lambda: plain_sales_now(db))
        month_ms = median_ms(lambda: build(db, admin, month, store))
        plain_month_ms = median_ms(lambda: plain_month(db, store))
        check = sales_now(db, admin, NOW)
        assert check.totals and check.totals[0].sales > 0, "no sales today: the bench is wrong"
        print(f"Sales now, whole fleet (median of {RUNS}): {now_ms:7.1f} ms (goal < 300 ms)")
        print(f"  the same from the sales tables:          {plain_now_ms:7.1f} ms")
        print(f"  ratio rollups / plain: {now_ms / plain_now_ms:.2f}x")
        print(f"End of month, one store (median of {RUNS}):  {month_ms:7.1f} ms (goal < 300 ms)")
        print(f"  the same from the sales tables:          {plain_month_ms:7.1f} ms")
        print(f"  ratio rollups / plain: {month_ms / plain_month_ms:.2f}x")
        first, last = month.first, month.last
        stock_ms = median_ms(lambda: on_hand(db, store))
        plain_stock_ms = median_ms(lambda: plain_stock(db, store))
        margin_ms = median_ms(lambda: margin_report(db, [store], first, last, "product"))
        plain_margin_ms = median_ms(lambda: plain_margin(db, store))
        held = on_hand(db, store)
        assert {sku: h.quantity for sku, h in held.items()} == {
            sku: int(total) for sku, total, _count in plain_stock(db, store)
        }, "the stock levels are not the sum of the ledger: the bench is wrong"
        margin = margin_report(db, [store], first, last, "product")
        assert sum(r.net for r in margin) == sum(int(n) for _s, n, _c in plain_margin(db, store))
        print(f"Stock on hand, one store (median of {RUNS}): {stock_ms:7.1f} ms (goal < 300 ms)")
        print(f"  the sum of its movements in the ledger:  {plain_stock_ms:7.1f} ms")
        print(f"  ratio levels / ledger: {stock_ms / plain_stock_ms:.2f}x")
        print(f"Month's margin, one store (median of {RUNS}): {margin_ms:6.1f} ms (goal < 300 ms)")
        print(f"  the same from the sale lines:            {plain_margin_ms:7.1f} ms")
        print(f"  ratio rollups / sale lines: {margin_ms / plain_margin_ms:.2f}x")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
