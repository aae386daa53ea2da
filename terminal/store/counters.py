"""Gapless numbers: one counter row per series (a terminal's sales, its refunds, its Z
reports), moved on inside the caller's IMMEDIATE transaction, so a number is used only
when the change it numbers commits."""

from __future__ import annotations

from terminal.store.models import CounterRow

_TABLE = CounterRow._meta.table_name
_NEW = f"INSERT INTO {_TABLE} (terminal_id, last_number) VALUES (?, 0)"
_NEXT = (
    f"UPDATE {_TABLE} SET last_number = last_number + 1 WHERE terminal_id = ? RETURNING last_number"
)


def next_number(cursor, series: str) -> int:
    """The next number of ``series`` (1 for its first). Call inside a write transaction."""
    counted = cursor.execute(_NEXT, (series,)).fetchone()
    if counted is None:  # the series' first number: its row is made once
        cursor.execute(_NEW, (series,))
        counted = cursor.execute(_NEXT, (series,)).fetchone()
    return counted[0]
