"""A fleet database made by an older release gets the columns added since, at the next
start (``create_tables``), on SQLite and PostgreSQL; its rows keep their values and read
the new columns' defaults."""

from __future__ import annotations

from datetime import datetime

import peewee
import pytest

from fleet.db import create_tables
from fleet.models import Rollout


def test_columns_added_since_are_made_and_old_rows_read_their_defaults(fleet_db):
    fleet_db.execute_sql("ALTER TABLE rollout DROP COLUMN gate_errors")
    fleet_db.execute_sql("ALTER TABLE rollout DROP COLUMN soak")
    now = datetime(2026, 11, 27, 9, 0)
    fleet_db.execute_sql(
        "INSERT INTO rollout (scope, version, waves, current_wave, state, gate_refused, "
        "gate_offline, wave_timeout, message, created_at, updated_at) "
        f"VALUES ('group:north', 3, '10,100', 1, 'done', 2, 1, 60, '', {fleet_db.param}, "
        f"{fleet_db.param})",
        (now, now),
    )
    with pytest.raises(peewee.DatabaseError):  # the old table lacks the column
        Rollout.select(Rollout.gate_errors).bind(fleet_db).scalar()
    create_tables(fleet_db)
    create_tables(fleet_db)  # and again: nothing more to do
    (row,) = Rollout.select().bind(fleet_db)
    assert (row.scope, row.version, row.gate_refused, row.gate_offline) == ("group:north", 3, 2, 1)
    assert (row.gate_errors, row.soak) == (0, 0)
