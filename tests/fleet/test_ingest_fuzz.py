"""The ingest's inbound handler fuzzed (issue 13): random bytes, wrong types, huge
payloads and random topics into ``Ingest.raw``, as a broker would hand them over. No
exception escapes, every journal batch is answered with an Ack the terminal can read,
and nothing is stored: no entry, no sale, no device event, no head moved."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fleet.models import DeviceEvent, Entry, Refund, Sale, Shift, Terminal, ZReport
from terminal.core import fleet_protocol as fp

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = ("up/journal", "state", "up/event", "down/ack")
TIDS = ("T01", "T02")  # T01 registered, T02 not


@pytest.fixture
def fuzzed(fleet_db, ingest, bare):
    bare.register(fleet_db)
    real = bare.add(3)
    assert ingest.journal("T01", fp.JournalBatch("T01", real[:1], head=3)) == fp.Ack(acked=1)
    return ingest, real


def nothing_stored(db) -> None:
    assert [seq for (seq,) in Entry.select(Entry.seq).tuples().bind(db)] == [1]
    for model in (Sale, Refund, Shift, ZReport, DeviceEvent):
        assert model.select().bind(db).count() == 0, model.__name__
    term = Terminal.select().where(Terminal.id == "T01").bind(db).get()
    assert (term.acked_seq, term.status, term.birth) == (1, "offline", None)
    assert Terminal.select().bind(db).count() == 1


def answer(ingest, topic, payload):
    """``raw`` never raises; a journal batch's Ack decodes as the terminal decodes it."""
    ack = ingest.raw(topic, payload)
    if ack is not None:
        assert isinstance(ack, fp.Ack)
        assert fp.decode("down/ack", fp.encode(ack)) == ack
    return ack


topics = st.one_of(
    st.builds(lambda t, k: f"pos/v1/{t}/{k}", st.sampled_from(TIDS), st.sampled_from(KINDS)),
    st.text(max_size=80),
    st.builds(lambda t, k: f"pos/v1/{t}/{k}", st.text(max_size=70), st.text(max_size=20)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@FUZZ
@given(topic=topics, payload=st.binary(max_size=3000))
def test_random_bytes_on_any_topic(fuzzed, fleet_db, topic, payload):
    ingest, _real = fuzzed
    answer(ingest, topic, payload)
    nothing_stored(fleet_db)


def _valid(kind: str, real) -> dict:
    """A message of ``kind`` the fleet would take, as JSON."""
    if kind == "up/journal":
        return json.loads(fp.encode(fp.JournalBatch("T01", real[1:], head=3)))
    if kind == "state":
        return {"status": "online", "birth": 4, "software": "1.0", "config_version": 2, "ts": ""}
    return {"kind": "paper_out", "ts": "2026-11-23T03:00:00Z", "device": "printer", "seq": 2}


def _paths(value, path=()):
    """Every place in a JSON value (dict keys and list positions)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _put(value, path, new):
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _put(value[head], tuple(rest), new)
    return copy


@FUZZ
@given(
    kind=st.sampled_from(("up/journal", "state", "up/event")),
    where=st.integers(min_value=0, max_value=10_000),
    new=json_values,
    drop=st.booleans(),
)
def test_wrong_types_in_real_messages(fuzzed, fleet_db, kind, where, new, drop):
    """A real message with one value replaced by one of another shape (or a field
    dropped): refused as a whole."""
    ingest, real = fuzzed
    message = _valid(kind, real)
    places = list(_paths(message))
    path = places[where % len(places)]
    if drop and path and isinstance(path[-1], str):
        changed = json.loads(json.dumps(message))
        target = changed
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
    else:
        changed = _put(message, path, new)
    data = json.dumps(changed).encode()
    try:  # only what the protocol refuses: a change that is still valid is not the point
        fp.decode(kind, data)
        assume(False)
    except fp.BadMessage:
        pass
    assert answer(ingest, f"pos/v1/T01/{kind}", data) is None
    nothing_stored(fleet_db)


hex_text = st.text("0123456789abcdef", min_size=64, max_size=64)
deep = st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n + "]" * n)


@FUZZ
@given(
    seqs=st.lists(st.integers(min_value=1, max_value=2**62), min_size=1, max_size=6),
    epoch=st.integers(min_value=1, max_value=4),
    kind=st.sampled_from(("sale", "refund", "epoch_start", "z_report", "shift_close", "start")),
    payload=st.one_of(st.text(max_size=200), deep, json_values.map(json.dumps)),
    digest=hex_text,
    prev=hex_text,
    signature=st.text("0123456789abcdef", min_size=128, max_size=128),
)
def test_well_formed_batches_of_forged_entries(
    fuzzed, fleet_db, seqs, epoch, kind, payload, digest, prev, signature
):
    """Batches the protocol takes, full of entries nobody signed (any seq, epoch, type,
    payload, deeply nested ones too): answered, kept aside at most, never stored."""
    ingest, real = fuzzed
    entries = [
        fp.Entry(
            epoch=epoch,
            seq=seq,
            terminal_id="T01",
            key_id=real[0].key_id,
            type=kind,
            ts="2026-11-23T03:00:00.000+00:00",
            grand_total=seq,
            payload_json=payload,
            prev_hash=prev if i else real[0].hash,
            hash=digest,
            signature=signature,
        )
        for i, seq in enumerate(seqs)
    ]
    ack = answer(ingest, "pos/v1/T01/up/journal", fp.encode(fp.JournalBatch("T01", entries, 9)))
    assert ack.acked == 1
    nothing_stored(fleet_db)


@pytest.mark.parametrize(
    "payload",
    [
        b"x" * (fp.MAX_MESSAGE_BYTES + 1),
        b'{"terminal_id":"T01","head":1,"entries":[' + b'{"a":1},' * 600_000 + b"{}]}",
        json.dumps(
            {"terminal_id": "T01", "head": 1, "entries": [{"seq": 1}] * (fp.MAX_BATCH_ENTRIES + 1)}
        ).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b'"' + b"\\u0000" * 100_000 + b'"',
    ],
    ids=["over the size limit", "megabytes of entries", "too many entries", "deep", "nuls"],
)
@pytest.mark.parametrize("kind", ["up/journal", "state", "up/event"])
def test_huge_payloads_are_refused_whole(fuzzed, fleet_db, payload, kind):
    ingest, _real = fuzzed
    assert answer(ingest, f"pos/v1/T01/{kind}", payload) is None
    nothing_stored(fleet_db)


@pytest.mark.parametrize("payload", [None, "text", 42, ["a"], {"b": 1}])
def test_wrong_python_types_from_the_server(fuzzed, fleet_db, payload):
    ingest, _real = fuzzed
    assert ingest.raw("pos/v1/T01/up/journal", payload) is None
    assert ingest.raw(None, b"{}") is None
    nothing_stored(fleet_db)
