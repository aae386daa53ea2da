"""The fleet's messages: one definition both sides decode with, its JSON Schemas in the
repo kept in step, and anything else refused as a whole with a clear reason."""

from __future__ import annotations

import contextlib

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
