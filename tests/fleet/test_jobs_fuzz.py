"""The agent's inbound job handler (``down/job/{id}``) fuzzed: random bytes, random JSON
and jobs with fields of the wrong type are refused without a crash, and nothing runs:
no job is recorded, handed to the app or answered."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.fleet import jobs
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_jobs
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import load_doc

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TOPIC = "pos/v1/T01/down/job/j-1"
VALID = {
    "id": "j-1",
    "kind": "lock",
    "issued_at": "2026-11-23T03:00:00Z",
    "expires_at": "2099-11-23T04:00:00Z",
    "text": "why",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    where = tmp_path_factory.mktemp("job-fuzz")
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(where / "var")
    doc["terminal"]["id"] = "T01"
    built = build_terminal(parse_settings(doc), pin_params=FAST_TEST_PARAMS)
    return built.pos


def never(_job):
    raise AssertionError("a job ran")


def check(pos, data: bytes, topic: str = TOPIC) -> None:
    outcome = jobs.receive(pos.db, "T01", topic, data, pos.clock(), never)
    assert outcome in ("bad", "cleared")
    assert not fleet_jobs.all_results(pos.db) and not fleet_jobs.app_jobs(pos.db)
    pos.fleet_jobs.poll(force=True)
    assert fleet_jobs.lock_reason(pos.db) is None and pos.fleet_jobs.message is None


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_run_nothing(world, data):
    check(world, data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@FUZZ
@given(field=st.sampled_from(sorted(VALID)), value=JSON)
def test_a_field_of_the_wrong_type_runs_nothing(world, field, value):
    job = dict(VALID, **{field: value})
    try:
        fp.decode("down/job", json.dumps(job).encode())
    except fp.BadMessage:
        check(world, json.dumps(job).encode())


@FUZZ
@given(extra=st.dictionaries(st.text(min_size=1, max_size=8), JSON, min_size=1, max_size=3))
def test_unknown_fields_run_nothing(world, extra):
    job = {**VALID, **{k: v for k, v in extra.items() if k not in VALID}}
    if len(job) > len(VALID):
        check(world, json.dumps(job).encode())


@pytest.mark.parametrize(
    "topic", ["pos/v1/T01/down/job/j-2", "pos/v1/T02/down/job/j-1", "pos/v1/T01/down/job"]
)
def test_a_job_on_another_topic_runs_nothing(world, topic):
    check(world, json.dumps(VALID).encode(), topic)
