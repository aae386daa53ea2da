"""Totals for a period, the heart of the X and Z reports (which come with the shifts issue).

Plain SQL aggregates over the encrypted file: SQLCipher decrypts pages, SQLite sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import Database


@dataclass(frozen=True)
class PeriodTotals:
    sales: int
    total: int
    by_tender: dict[str, int]
    by_tax: dict[tuple[str, str], tuple[int, int]]  # (code, rate) -> (base, tax)
    by_hour: dict[int, int]  # UTC hour -> total
    by_cashier: dict[int, tuple[int, int]]  # cashier id -> (sales, total)


def period_totals(db: Database, start: datetime, end: datetime) -> PeriodTotals:
    """Sales with ``start <= created_at < end`` (naive UTC, as stored)."""
    window = (start.isoformat(" "), end.isoformat(" "))
    in_period = "sale_id IN (SELECT id FROM sale WHERE created_at >= ? AND created_at < ?)"
    count, total = db.execute_sql(
        "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM sale"
        " WHERE created_at >= ? AND created_at < ?",
        window,
    ).fetchone()
    by_tender = dict(
        db.execute_sql(
            f"SELECT kind, SUM(amount) FROM tender WHERE {in_period} GROUP BY kind", window
        )
    )
    by_tax = {
        (code, rate): (base, amount)
        for code, rate, base, amount in db.execute_sql(
            f"SELECT code, rate, SUM(base), SUM(amount) FROM sale_tax WHERE {in_period}"
            " GROUP BY code, rate",
            window,
        )
    }
    by_hour = {
        int(hour): amount
        for hour, amount in db.execute_sql(
            "SELECT substr(created_at, 12, 2), SUM(total) FROM sale"
            " WHERE created_at >= ? AND created_at < ? GROUP BY 1",
            window,
        )
    }
    by_cashier = {
        cashier: (n, amount)
        for cashier, n, amount in db.execute_sql(
            "SELECT cashier_id, COUNT(*), SUM(total) FROM sale"
            " WHERE created_at >= ? AND created_at < ? GROUP BY cashier_id",
            window,
        )
    }
    return PeriodTotals(count, total, by_tender, by_tax, by_hour, by_cashier)


def best_sellers(db: Database, since: datetime, limit: int) -> list[str]:
    """The SKUs sold on the most sales since ``since`` (naive UTC), most first: the
    sale screen's favourite buttons. A line counts once, whatever its quantity."""
    rows = db.execute_sql(
        "SELECT sku, COUNT(*) AS n FROM sale_line"
        " WHERE sale_id IN (SELECT id FROM sale WHERE created_at >= ?)"
        " GROUP BY sku ORDER BY n DESC, sku LIMIT ?",
        (since.isoformat(" "), limit),
    )
    return [sku for sku, _n in rows]
