"""The agent's inbound job handler (``down/job/{id}``) fuzzed: random bytes, random JSON
and jobs with fields of the wrong type are refused without a crash, and nothing runs:
no job is recorded, handed to the app or answered. An install job with a fuzzed
certificate is refused (or not decoded) and leaves the key files as they were; a result
with a fuzzed progress, request or state is refused whole."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import pki
from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.fleet import certificate, jobs
from terminal.fleet.jobs import JobRefused
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


def make_terminal(tmp_path_factory):
    where = tmp_path_factory.mktemp("job-fuzz")
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(where / "var")
    doc["terminal"]["id"] = "T01"
    built = build_terminal(parse_settings(doc), pin_params=FAST_TEST_PARAMS)
    return built.pos


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_terminal(tmp_path_factory)


@pytest.fixture(scope="module")
def cert_world(tmp_path_factory):
    """A terminal of its own (its refused install jobs are results)."""
    return make_terminal(tmp_path_factory)


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


# -- the certificate jobs' fields ---------------------------------------------------------------
PEM_BODY = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n")


@pytest.fixture(scope="module")
def key_files(tmp_path_factory, cert_world):
    """A terminal's certificate, key and CA, and a key waiting for its certificate."""
    where = tmp_path_factory.mktemp("job-fuzz-pki")
    ca = pki.new_authority("fuzz CA")
    issued = pki.issue_with_new_key(ca, "T01")
    (where / "ca.crt").write_bytes(pki.certificate_pem(ca.certificate))
    (where / "client.crt").write_bytes(pki.certificate_pem(issued.certificate))
    pki.write_private(where / "client.key", pki.key_pem(issued.key))
    fleet = dataclasses.replace(
        cert_world.settings.fleet,
        ca_file=where / "ca.crt",
        cert_file=where / "client.crt",
        key_file=where / "client.key",
    )
    certificate.new_request(fleet, "T01")
    return fleet


def install_runner(fleet):
    """As the agent runs an install job, up to the swap: the certificate checked."""

    def run(job, _report):
        try:
            certificate.check(fleet, "T01", job.certificate, datetime.now(UTC))
        except certificate.CertificateRefused as exc:
            raise JobRefused(str(exc)) from None
        raise AssertionError("a fuzzed certificate was accepted")

    return run


def snapshot(fleet) -> list[bytes]:
    where = certificate.paths(fleet)
    return [p.read_bytes() for p in (where.cert, where.key, where.pending_key)]


@FUZZ
@given(
    body=PEM_BODY | st.text(max_size=300),
    wrapped=st.booleans(),
    number=st.integers(min_value=0, max_value=10**9),
)
def test_an_install_job_with_a_fuzzed_certificate_changes_nothing(
    cert_world, key_files, body, wrapped, number
):
    world = cert_world
    pem = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n" if wrapped else body
    job = dict(VALID, id=f"f-{number}", kind="install_certificate", certificate=pem)
    before = snapshot(key_files)
    topic = f"pos/v1/T01/down/job/f-{number}"
    outcome = jobs.receive(
        world.db, "T01", topic, json.dumps(job).encode(), world.clock(), install_runner(key_files)
    )
    assert outcome in ("bad", "refused", "repeat")
    assert snapshot(key_files) == before
    assert not certificate.paths(key_files).old_cert.exists()
    if outcome == "refused":
        (row,) = [r for r in fleet_jobs.all_results(world.db) if r.job_id == f"f-{number}"][-1:]
        assert row.json()["state"] == "refused" and row.json()["detail"]


@FUZZ
@given(
    field=st.sampled_from(["progress", "csr", "state"]),
    value=JSON | st.integers(min_value=-1000, max_value=1000),
)
def test_a_result_with_fuzzed_progress_or_request_is_clear(field, value):
    """What the fleet decodes of ``up/job``: a step whose progress, request or state is
    not what the schema says is refused as a whole (BadMessage), never half taken."""
    result = {"id": "j-1", "state": "running", "ts": "2026-11-23T03:00:00Z", field: value}
    raw = json.dumps(result).encode()
    try:
        decoded = fp.decode("up/job", raw)
    except fp.BadMessage:
        return
    if field == "progress":
        assert value is None or (isinstance(value, int) and 0 <= value <= 100)
    elif field == "csr":
        assert value == "" or value.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    else:
        assert decoded.state in fp.JOB_STATES
