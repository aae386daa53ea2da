"""The fleet's messages: one definition both sides decode with, its JSON Schemas in the
repo kept in step, and anything else refused as a whole with a clear reason."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import schemas
from terminal.core import fleet_protocol as fp

ENTRY = {
    "epoch": 1,
    "seq": 7,
    "terminal_id": "T01",
    "key_id": "0123abcd",
    "type": "sale",
    "ts": "2026-11-27T10:00:00.000+00:00",
    "grand_total": 5500,
    "payload_json": '{"label":"T01-000001"}',
    "prev_hash": "ab" * 32,
    "hash": "cd" * 32,
    "signature": "ef" * 64,
}


def test_the_schema_files_are_generated_from_the_definitions():
    on_disk = {p.name: p.read_text() for p in schemas.HERE.glob("*.schema.json")}
    assert on_disk == schemas.rendered(), "run: python -m fleet.schemas"


def test_a_batch_round_trips():
    batch = fp.JournalBatch("T01", [fp.Entry(**ENTRY)], head=9)
    assert fp.decode("up/journal", fp.encode(batch)) == batch
    assert batch.entries[0].as_journal_entry() == ENTRY


@pytest.mark.parametrize(
    ("kind", "data", "says"),
    [
        ("up/journal", b"{", "truncated"),
        ("up/journal", b"\xff", "malformed"),
        ("up/journal", b'{"terminal_id":"T01","entries":[],"head":1}', "entries"),
        ("down/ack", b'{"acked":-1}', "acked"),
        ("down/ack", b'{"acked":1,"extra":2}', "extra"),
        ("state", b'{"status":"maybe","birth":1}', "status"),
        ("up/event", b'{"kind":"paper_out"}', "ts"),
        ("up/journal", b"[" + b"1," * fp.MAX_MESSAGE_BYTES + b"1]", "more than"),
    ],
)
def test_a_bad_message_is_refused_with_its_reason(kind, data, says):
    with pytest.raises(fp.BadMessage, match=says):
        fp.decode(kind, data)


def test_an_entry_with_a_forged_shape_is_refused():
    for field, value in [("seq", 0), ("hash", "XYZ"), ("signature", "00"), ("type", "Sale!")]:
        data = fp.encode(fp.JournalBatch("T01", [fp.Entry(**ENTRY)], head=9))
        data = data.replace(fp.encode(ENTRY[field]), fp.encode(value), 1)
        with pytest.raises(fp.BadMessage):
            fp.decode("up/journal", data)


@pytest.mark.parametrize(
    "name",
    ["pos/v1/T01", "pos/v2/T01/up/journal", "pos/v1/+/up/journal", "pos/v1/T01/up/other", ""],
)
def test_only_fleet_topics_are_taken(name):
    with pytest.raises(fp.BadMessage):
        fp.parse_topic(name)
    assert fp.parse_topic("pos/v1/T-01.a/down/ack") == ("T-01.a", "down/ack")


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(fp.MESSAGES)), data=st.binary(max_size=2000))
def test_random_bytes_are_refused_never_a_crash(kind, data):
    with contextlib.suppress(fp.BadMessage):
        fp.decode(kind, data)


# -- jobs ------------------------------------------------------------------------------------------
def test_job_topics_carry_the_job_id():
    assert fp.topic("T01", "down/job", "j-1") == "pos/v1/T01/down/job/j-1"
    assert fp.topic("T01", "up/job", "+") == "pos/v1/T01/up/job/+"
    assert fp.parse_job_topic("pos/v1/T01/up/job/j-1") == ("T01", "up/job", "j-1")
    assert fp.parse_topic("pos/v1/T01/up/job/j-1") == ("T01", "up/job")
    assert fp.parse_job_topic("pos/v1/T01/up/event") == ("T01", "up/event", None)
    for name in (
        "pos/v1/T01/up/job",
        "pos/v1/T01/up/job/",
        "pos/v1/T01/up/job/a/b",
        "pos/v1/T01/up/job/+",
        "pos/v1/T01/down/job/" + "x" * 65,
        "pos/v1/T01/side/job/j-1",
    ):
        with pytest.raises(fp.BadMessage):
            fp.parse_topic(name)
    with pytest.raises(ValueError):
        fp.topic("T01", "down/job")  # the id is missing
    with pytest.raises(ValueError):
        fp.topic("T01", "down/ack", "j-1")
    with pytest.raises(ValueError):
        fp.topic("T01", "down/job", "a/b")


def test_jobs_and_results_are_decoded_strictly():
    job = fp.Job(
        "j-1",
        "lock",
        datetime(2026, 11, 23, 3, tzinfo=UTC),
        datetime(2026, 11, 23, 4, tzinfo=UTC),
        "stock count",
    )
    assert fp.decode("down/job", fp.encode(job)) == job
    data = fp.encode(job)
    for bad in (
        data.replace(b'"lock"', b'"reboot"'),
        data.replace(b'"j-1"', b'"j 1"'),
        data.replace(b"00Z", b"00"),  # a time without its zone
        data.replace(b"}", b',"extra":1}'),
        data.replace(b'"stock count"', b'"' + b"x" * 201 + b'"'),
    ):
        with pytest.raises(fp.BadMessage):
            fp.decode("down/job", bad)
    done = fp.JobResult("j-1", "done", datetime(2026, 11, 23, 3, tzinfo=UTC), data={"a": "b"})
    assert fp.decode("up/job", fp.encode(done)) == done
    for bad in (
        fp.encode(done).replace(b'"done"', b'"maybe"'),
        fp.encode(done).replace(b'{"a":"b"}', b'{"a":1}'),
        fp.encode(done).replace(b'"detail":""', b'"detail":"' + b"x" * 1001 + b'"'),
    ):
        with pytest.raises(fp.BadMessage):
            fp.decode("up/job", bad)
