"""Shifts: the drawer's cash from the opening float to the blind count at close."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Database

from terminal.store.models import ShiftRow


@dataclass(frozen=True)
class Shift:
    id: int
    cashier_id: int
    opened_at: datetime
    opening_float: int


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def current_shift(db: Database, terminal_id: str) -> Shift | None:
    row = (
        ShiftRow.select()
        .where((ShiftRow.terminal_id == terminal_id) & ShiftRow.closed_at.is_null())
        .order_by(ShiftRow.id.desc())
        .first(db)
    )
    if row is None:
        return None
    return Shift(row.id, row.cashier_id, row.opened_at.replace(tzinfo=UTC), row.opening_float)


def open_shift(
    db: Database, terminal_id: str, cashier_id: int, opening_float: int, at: datetime
) -> Shift:
    shift_id = ShiftRow.insert(
        terminal_id=terminal_id,
        cashier_id=cashier_id,
        opened_at=_naive(at),
        opening_float=opening_float,
    ).execute(db)
    return Shift(shift_id, cashier_id, at, opening_float)


def close_shift(
    db: Database, shift_id: int, at: datetime, expected: int, counted: int, counts: dict[int, int]
) -> None:
    ShiftRow.update(
        closed_at=_naive(at),
        expected=expected,
        counted=counted,
        variance=counted - expected,
        counts=json.dumps({str(k): v for k, v in sorted(counts.items())}),
    ).where(ShiftRow.id == shift_id).execute(db)
