"""Gapless numbers: one counter row per series (a terminal's sales, its refunds, its Z
reports, and any later series), moved on inside the caller's IMMEDIATE transaction, so a
number is used only when the change it numbers commits.

A series only goes up: after a restore, a reset or a transfer, :func:`carry_forward`
moves each series past the highest number ever issued in it, so no receipt number is
issued twice."""

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


_SET = (
    f"INSERT INTO {_TABLE} (terminal_id, last_number) VALUES (?, ?) ON CONFLICT (terminal_id)"
    " DO UPDATE SET last_number = excluded.last_number WHERE excluded.last_number > last_number"
)


def numbers(cursor) -> dict[str, int]:
    """The last number of every series."""
    return dict(cursor.execute(f"SELECT terminal_id, last_number FROM {_TABLE}").fetchall())


def carry_forward(cursor, highest: dict[str, int]) -> dict[str, list[int]]:
    """Move each series to at least ``highest[series]``, each separately, never back.
    Returns the series moved, with their last number before and after."""
    before = numbers(cursor)
    moved = {}
    for series, number in sorted(highest.items()):
        if number > before.get(series, 0):
            cursor.execute(_SET, (series, number))
            moved[series] = [before.get(series, 0), number]
    return moved


def series_label(series: str) -> str:
    """What a series numbers, for a technician's message: ``T01`` sales, ``T01:refund``
    refunds, ``T01:Z`` Z reports."""
    _terminal, _, kind = series.partition(":")
    return {"": "sales", "refund": "refunds", "Z": "Z reports"}.get(kind, series)
