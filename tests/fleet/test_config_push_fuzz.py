"""The ingest's ``up/cfg-status`` handler fuzzed: random bytes, real messages with a value
of another shape, and well-formed statuses with any content. No exception escapes; a
malformed status stores nothing; a well-formed one touches only its own terminal's row
and counts for a rollout only when it names it and (applied) holds its version."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fleet import rollout as rollouts
from fleet.models import Alert, RolloutTarget, TerminalConfig
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from tests.fleet.test_ingest_fuzz import _paths, _put, json_values

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOPIC = fp.topic("T01", "up/cfg-status")
VALID = {
    "result": "applied",
    "ts": "2026-11-23T04:00:00Z",
    "versions": {"group:G1": 2, "fleet": 1},
    "reason": "",
    "message": "",
    "rollout": "1",
}


@pytest.fixture
def planned(fleet_db, ingest, bare):
    """T01 registered, in rollout 1 of group:G1 version 2 (nothing answered yet)."""
    bare.register(fleet_db)
    plan = rollouts.create(
        fleet_db,
        sc.parse_scope("group:G1"),
        version=2,
        envelope=b"{}",
        sha256="0" * 64,
        key_id="0" * 16,
        waves=[100],
    )
    assert plan.rollout.id == 1
    return ingest


def untouched(db) -> None:
    assert TerminalConfig.select().bind(db).count() == 0
    assert RolloutTarget.select().bind(db).get().result is None
    assert Alert.select().where(Alert.kind == "config refused").bind(db).count() == 0


@FUZZ
@given(payload=st.binary(max_size=3000))
def test_random_bytes(planned, fleet_db, payload):
    assert planned.raw(TOPIC, payload) is None
    untouched(fleet_db)


@FUZZ
@given(
    where=st.integers(min_value=0, max_value=10_000),
    new=json_values,
    drop=st.booleans(),
)
def test_wrong_types_in_a_real_status(planned, fleet_db, where, new, drop):
    places = list(_paths(VALID))
    path = places[where % len(places)]
    if drop and path and isinstance(path[-1], str) and path[0] in ("result", "ts"):
        changed = {k: v for k, v in VALID.items() if k != path[0]}
    else:
        changed = _put(VALID, path, new)
    data = json.dumps(changed).encode()
    try:
        fp.decode("up/cfg-status", data)
        assume(False)
    except fp.BadMessage:
        pass
    assert planned.raw(TOPIC, data) is None
    untouched(fleet_db)


@FUZZ
@given(
    result=st.sampled_from(("applied", "held", "refused")),
    versions=st.dictionaries(
        st.text(max_size=30) | st.sampled_from(("group:G1", "fleet")),
        st.integers(min_value=0, max_value=2**62),
        max_size=4,
    ),
    reason=st.text(max_size=200),
    message=st.text(max_size=1000),
    rollout=st.text(max_size=30) | st.sampled_from(("1", "2", "01", "9" * 30)),
    tid=st.sampled_from(("T01", "T02")),
)
def test_any_well_formed_status(planned, fleet_db, result, versions, reason, message, rollout, tid):
    before = RolloutTarget.select().bind(fleet_db).get().result
    status = fp.ConfigStatus(result, "ts", versions, reason, message, rollout)
    assert planned.raw(fp.topic(tid, "up/cfg-status"), fp.encode(status)) is None
    target = RolloutTarget.select().bind(fleet_db).get()
    counts = (
        tid == "T01"
        and rollout in ("1", "01")
        and before in (None, "held")
        and (result != "applied" or versions.get("group:G1", 0) >= 2)
    )
    assert target.result == (result if counts else before)
    rows = {row.terminal_id: row for row in TerminalConfig.select().bind(fleet_db)}
    assert set(rows) <= {"T01"}  # an unregistered terminal's status is not kept
    if tid == "T01":
        shown = message.replace("\x00", "\ufffd")  # PostgreSQL's text holds no NUL
        assert rows["T01"].result == result and rows["T01"].message == shown
        if result == "applied":
            assert json.loads(rows["T01"].versions_json) == versions
