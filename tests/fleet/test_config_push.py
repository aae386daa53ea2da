"""The fleet's side of pushing signed configuration, in-process, on SQLite and PostgreSQL:
``up/cfg-status`` stored by the ingest (a refusal raised as an alert), waves planned and
gated, and each terminal's bundle (only documents released to it). The same with a real
Mosquitto and ``pos-fleet`` as a process: ``test_rollout_mqtt.py``."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import rollout as rollouts
from fleet import signing
from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.ingest import Ingest
from fleet.models import Alert, ConfigDocument, Rollout, RolloutTarget, TerminalConfig
from fleet.registry import get_terminal, register_terminal
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from tests.fleet.console_client import signed_in


def status_message(result="applied", versions=None, reason="", message="", rollout="") -> bytes:
    return fp.encode(
        fp.ConfigStatus(
            result=result,
            ts="2026-11-23T04:00:00Z",
            versions=versions or {},
            reason=reason,
            message=message,
            rollout=rollout,
        )
    )


def register(db, tid: str, group: str) -> None:
    pem = sc.public_pem(Ed25519PrivateKey.generate().public_key())
    register_terminal(db, tid, store="S1", group=group, public_key_pem=pem)


@pytest.fixture
def signing_dir(tmp_path):
    now = datetime.now(UTC)
    signing.init(tmp_path / "root", tmp_path / "signing", now - timedelta(minutes=1))
    return tmp_path / "signing"


@pytest.fixture
def shops(fleet_db):
    """T01-T04 in group north, T05 in group south."""
    for n in range(1, 5):
        register(fleet_db, f"T0{n}", "north")
    register(fleet_db, "T05", "south")
    return fleet_db


def price(sku: str, amount: int) -> dict:
    return {"products": [{"sku": sku, "name": sku.title(), "price": amount, "tax_class": "PPN"}]}


# -- up/cfg-status ------------------------------------------------------------------------------
def test_a_status_is_stored_and_a_refusal_raised_then_closed(shops, ingest):
    topic = fp.topic("T01", "up/cfg-status")
    assert ingest.raw(topic, status_message(versions={"group:north": 3, "fleet": 1})) is None
    row = TerminalConfig.select().bind(shops).get()
    assert (row.terminal_id, row.result) == ("T01", "applied")
    assert json.loads(row.versions_json) == {"fleet": 1, "group:north": 3}
    ingest.raw(topic, status_message("refused", reason="invalid", message="price below 0"))
    row = TerminalConfig.select().bind(shops).get()
    assert (row.result, row.reason, row.message) == ("refused", "invalid", "price below 0")
    assert json.loads(row.versions_json) == {"fleet": 1, "group:north": 3}  # kept
    (alert,) = Alert.select().bind(shops)
    assert (alert.terminal_id, alert.kind, alert.resolved) == ("T01", "config refused", False)
    assert "invalid: price below 0" in alert.detail
    ingest.raw(topic, status_message(versions={"group:north": 4, "fleet": 1}))
    assert Alert.select().where(Alert.resolved == False).bind(shops).count() == 0  # noqa: E712


def test_unknown_terminal_and_malformed_status(shops, ingest):
    ingest.raw(fp.topic("T99", "up/cfg-status"), status_message())
    (alert,) = Alert.select().bind(shops)
    assert (alert.terminal_id, alert.kind) == ("T99", "unknown terminal")
    for bad in (
        b'{"result": "applied"}',  # no ts
        b'{"result": "done", "ts": ""}',
        b'{"result": "applied", "ts": "", "versions": {"fleet": -1}}',
        b'{"result": "applied", "ts": "", "extra": 1}',
        b"\xff",
    ):
        assert ingest.raw(fp.topic("T01", "up/cfg-status"), bad) is None
    assert TerminalConfig.select().bind(shops).count() == 0
    assert ingest.stats["bad message"] == 5


# -- waves ---------------------------------------------------------------------------------------
def test_waves_are_parsed_and_split():
    assert rollouts.parse_waves("1%,10%,100%") == [1, 10, 100]
    assert rollouts.parse_waves("100") == [100]
    for bad in ("10%,5%,100%", "50%", "0%,100%", "x", "10%,200%"):
        with pytest.raises(rollouts.RolloutError):
            rollouts.parse_waves(bad)
    tids = [f"T{n:03}" for n in range(200)]
    split = rollouts.split_waves(tids, [1, 10, 100])
    assert [len(w) for w in split] == [2, 18, 180]
    assert list(itertools.chain.from_iterable(split)) == tids
    assert [len(w) for w in rollouts.split_waves(tids[:3], [1, 10, 100])] == [1, 1, 1]
    assert [len(w) for w in rollouts.split_waves(tids[:1], [1, 50, 100])] == [1, 0, 0]


class Fleet:
    """Terminals answering the bundles as ``answer`` says, straight into the ingest (what
    the broker and ``pos-fleet serve`` carry in ``test_rollout_mqtt.py``)."""

    def __init__(self, db, ingest, trust_root: bytes, refuse=(), silent=()):
        self.db = db
        self.ingest = ingest
        self.root = trust_root
        self.refuse = set(refuse)
        self.silent = set(silent)
        self.received: dict[str, list[fp.ConfigBundle]] = {}

    def publish(self, topic: str, payload: bytes) -> None:
        tid, kind = fp.parse_topic(topic)
        assert kind == "down/cfg"
        bundle = fp.decode(kind, payload)
        self.received.setdefault(tid, []).append(bundle)
        if tid in self.silent:
            return
        trust = sc.Trust(self.root)
        trust.accept_key_list(bundle.key_list.encode(), datetime.now(UTC))
        group = get_terminal(self.db, tid).group
        versions = {}
        for envelope in bundle.documents:
            checked = sc.verify_config(
                envelope.encode(),
                trust=trust,
                terminal_id=tid,
                group=group,
                applied_versions={},
                now=datetime.now(UTC),
            )
            versions[checked.scope.label] = checked.version
        if tid in self.refuse:
            message = status_message("refused", reason="invalid", rollout=bundle.rollout)
        else:
            message = status_message(versions=versions, rollout=bundle.rollout)
        self.ingest.raw(fp.topic(tid, "up/cfg-status"), message)

    def versions(self, tid: str) -> dict[str, int]:
        bundle = self.received[tid][-1]
        out = {}
        for envelope in bundle.documents:
            payload = msgspec_payload(envelope)
            out[f"{payload.scope.label}"] = payload.version
        return out


def msgspec_payload(envelope: str) -> sc.ConfigPayload:
    raw = base64.b64decode(json.loads(envelope)["payload"])
    return msgspec.json.decode(raw, type=sc.ConfigPayload)


def push(db, signing_dir, document, scope, fleet, **options):
    planned = rollouts.sign_and_plan(
        db, signing_dir, document, sc.parse_scope(scope), wave_timeout=0.5, **options
    )
    ended = rollouts.run(
        db, planned.rollout.id, fleet.publish, rollouts.key_list(signing_dir), poll=0.02
    )
    return planned, ended


def test_a_rollout_in_waves_stops_at_a_failed_gate_and_the_rest_keep_theirs(
    shops, ingest, signing_dir
):
    fleet = Fleet(shops, ingest, (signing_dir / signing.ROOT_PUBLIC).read_bytes())
    _planned, first = push(
        shops, signing_dir, price("TEH", 5000), "group:north", fleet, waves=[100]
    )
    assert first.state == "done" and sorted(fleet.received) == ["T01", "T02", "T03", "T04"]
    fleet.refuse = {"T02"}
    planned, ended = push(
        shops, signing_dir, price("TEH", 5500), "group:north", fleet, waves=[25, 50, 100]
    )
    assert [len(w) for w in planned.waves] == [1, 1, 2]
    assert ended.state == "stopped"
    assert "wave 2 of 3: 1 refused, more than 0 allowed: T02 (invalid)" in ended.message
    assert rollouts.untouched(shops, ended.id) == ["T03", "T04"]
    for tid in ("T03", "T04"):  # never sent the new version: their last bundle is version 1
        assert len(fleet.received[tid]) == 1 and fleet.versions(tid) == {"group:north": 1}
    assert fleet.versions("T01") == {"group:north": 2}
    # a later push of another scope does not carry the stopped version to T03
    fleet.refuse = set()
    _planned, done = push(
        shops, signing_dir, {"store": {"name": "X"}}, "terminal:T03", fleet, waves=[100]
    )
    assert done.state == "done"
    assert fleet.versions("T03") == {"group:north": 1, "terminal:T03": 1}
    assert "T05" not in fleet.received
    status = {r.terminal_id: r for r in TerminalConfig.select().bind(shops)}
    assert json.loads(status["T01"].versions_json) == {"group:north": 2}
    assert status["T02"].result == "refused"


def test_silent_terminals_fail_the_offline_gate_unless_allowed(shops, ingest, signing_dir):
    root = (signing_dir / signing.ROOT_PUBLIC).read_bytes()
    fleet = Fleet(shops, ingest, root, silent={"T01"})
    _planned, ended = push(
        shops, signing_dir, price("TEH", 1), "group:north", fleet, waves=[25, 100]
    )
    assert ended.state == "stopped" and "1 without an answer" in ended.message
    assert rollouts.untouched(shops, ended.id) == ["T02", "T03", "T04"]
    _planned, ended = push(
        shops, signing_dir, price("TEH", 2), "group:north", fleet, waves=[25, 100], gate_offline=1
    )
    assert ended.state == "done"
    assert {
        t.result
        for t in RolloutTarget.select().where(RolloutTarget.rollout == ended.id).bind(shops)
    } == {None, "applied"}


def test_pause_resume_and_abort(shops, ingest, signing_dir):
    root = (signing_dir / signing.ROOT_PUBLIC).read_bytes()
    fleet = Fleet(shops, ingest, root)
    planned = rollouts.sign_and_plan(
        shops, signing_dir, price("TEH", 7), sc.parse_scope("group:north"), waves=[25, 50, 100],
        wave_timeout=2,
    )  # fmt: skip
    rid = planned.rollout.id
    rollouts.pause(shops, rid)
    keys = rollouts.key_list(signing_dir)
    assert rollouts.run(shops, rid, fleet.publish, keys).state == "paused"
    assert fleet.received == {}
    with pytest.raises(rollouts.RolloutError, match="not running"):
        rollouts.pause(shops, rid)
    rollouts.resume(shops, rid)

    def pause_after_first(topic, payload):
        fleet.publish(topic, payload)
        rollouts.pause(shops, rid)

    assert rollouts.run(shops, rid, pause_after_first, keys, poll=0.02).state == "paused"
    assert sorted(fleet.received) == ["T01"]
    with pytest.raises(rollouts.RolloutError, match="rollout 1 of group:north is paused"):
        rollouts.sign_and_plan(
            shops, signing_dir, price("TEH", 8), sc.parse_scope("group:north"), waves=[100]
        )
    rollouts.abort(shops, rid)
    with pytest.raises(rollouts.RolloutError, match="not paused"):
        rollouts.resume(shops, rid)
    assert rollouts.run(shops, rid, fleet.publish, keys).state == "aborted"
    assert rollouts.untouched(shops, rid) == ["T02", "T03", "T04"]


def test_rollback_takes_the_previous_content_as_a_new_version(shops, ingest, signing_dir):
    fleet = Fleet(shops, ingest, (signing_dir / signing.ROOT_PUBLIC).read_bytes())
    push(shops, signing_dir, price("TEH", 5000), "group:south", fleet, waves=[100])
    push(shops, signing_dir, price("TEH", 9999), "group:south", fleet, waves=[100])
    previous = rollouts.previous_document(shops, sc.parse_scope("group:south"))
    assert previous.version == 1
    push(
        shops,
        signing_dir,
        rollouts.document_of(previous.envelope),
        "group:south",
        fleet,
        waves=[100],
    )
    (latest, *_rest) = rollouts.documents(shops, sc.parse_scope("group:south"))
    assert latest.version == 3
    assert rollouts.document_of(latest.envelope) == price("TEH", 5000)
    assert fleet.versions("T05") == {"group:south": 3}
    assert ConfigDocument.select().bind(shops).count() == 3
    assert Rollout.select().where(Rollout.state == "done").bind(shops).count() == 3
    with pytest.raises(rollouts.RolloutError, match="nothing to roll back"):
        rollouts.previous_document(shops, sc.parse_scope("fleet"))


def test_no_terminal_in_scope_signs_nothing(shops, signing_dir):
    with pytest.raises(rollouts.RolloutError, match="no registered terminal"):
        rollouts.sign_and_plan(
            shops, signing_dir, price("TEH", 1), sc.parse_scope("group:west"), waves=[100]
        )
    assert ConfigDocument.select().bind(shops).count() == 0
    assert not (signing_dir / signing.VERSIONS).exists()


def test_a_bundle_over_the_message_limit_stops_the_rollout_before_sending(
    shops, ingest, signing_dir, monkeypatch
):
    fleet = Fleet(shops, ingest, (signing_dir / signing.ROOT_PUBLIC).read_bytes())
    monkeypatch.setattr(fp, "MAX_MESSAGE_BYTES", 1000)
    _planned, ended = push(shops, signing_dir, price("TEH", 1), "group:south", fleet, waves=[100])
    assert ended.state == "stopped" and "over the limit of 1000" in ended.message
    assert fleet.received == {} and rollouts.untouched(shops, ended.id) == ["T05"]


class ErringFleet(Fleet):
    """As :class:`Fleet`, and the terminals in ``erring`` raise a device error just after
    they apply (a printer the new receipt texts upset, say)."""

    def __init__(self, *args, erring=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.erring = set(erring)

    def publish(self, topic: str, payload: bytes) -> None:
        super().publish(topic, payload)
        tid, _kind = fp.parse_topic(topic)
        if tid in self.erring:
            event = fp.Event("printer_error", "2026-11-23T04:00:01Z", "printer", "head too hot")
            self.ingest.raw(fp.topic(tid, "up/event"), fp.encode(event))


def test_an_alert_after_the_push_fails_the_error_gate_unless_allowed(shops, signing_dir):
    root = (signing_dir / signing.ROOT_PUBLIC).read_bytes()
    ingest = Ingest(shops)  # on the real clock, as the rollout's (alerts vs sending times)
    fleet = ErringFleet(shops, ingest, root)
    # T01's printer was out of paper before the push: not the new configuration's doing
    old = fp.Event("paper_out", "2026-11-23T03:00:00Z", "printer", "")
    ingest.raw(fp.topic("T01", "up/event"), fp.encode(old))
    fleet.erring = {"T02"}
    _planned, ended = push(
        shops, signing_dir, price("TEH", 1), "group:north", fleet, waves=[25, 50, 100]
    )
    assert ended.state == "stopped", ended.message
    assert ended.message == (
        "wave 2 of 3: 1 with an alert since the push, more than 0 allowed: T02 (printer_error)"
    )
    assert rollouts.untouched(shops, ended.id) == ["T03", "T04"]
    fleet.erring = {"T03"}
    _planned, ended = push(
        shops, signing_dir, price("TEH", 2), "group:north", fleet, waves=[25, 100], gate_errors=1
    )
    assert ended.state == "done", ended.message
    figures = rollouts.wave_figures(shops, ended, 1)
    assert ("T03", "printer_error") in figures.errors


def test_the_console_shows_the_rollouts_and_documents_each_viewer_may_see(
    shops, ingest, signing_dir
):

    fleet = Fleet(shops, ingest, (signing_dir / signing.ROOT_PUBLIC).read_bytes(), refuse={"T02"})
    _planned, ended = push(
        shops, signing_dir, price("TEH", 5500), "group:north", fleet, waves=[25, 50, 100]
    )
    assert ended.state == "stopped"
    now = datetime.now(UTC).replace(tzinfo=None)
    cost = accounts.FAST_TEST_COST
    accounts.add_account(shops, "ani", "admin", "a long pass phrase", now, cost=cost)
    accounts.add_account(
        shops, "oka", "owner", "a long pass phrase", now, stores=["Elsewhere"], cost=cost
    )
    app = create_app(shops, ConsoleSettings(secure_cookies=False), cost=cost)
    admin = signed_in(app, "ani", "a long pass phrase").get("/config").text
    assert f'data-rollout="{ended.id}"' in admin and "stopped" in admin
    assert "1 refused, more than 0 allowed: T02 (invalid)" in admin
    assert "group:north" in admin and '<td class="num">1</td><td>' in admin  # 1 product
    other = signed_in(app, "oka", "a long pass phrase").get("/config").text
    assert "group:north" not in other and f'data-rollout="{ended.id}"' not in other


def test_the_preview_shows_what_each_terminal_applies_and_the_difference_from_it(
    shops, ingest, signing_dir, tmp_path
):
    from fleet.config import FleetConfig, SigningSettings  # noqa: PLC0415
    from tests.fleet.console_client import csrf_of  # noqa: PLC0415

    fleet = Fleet(shops, ingest, (signing_dir / signing.ROOT_PUBLIC).read_bytes())
    push(shops, signing_dir, price("TEH", 5000), "group:north", fleet, waves=[100])
    fleet.refuse = {"T02"}
    _planned, ended = push(
        shops, signing_dir, price("TEH", 5500), "group:north", fleet, waves=[25, 50, 100]
    )
    assert ended.state == "stopped"  # T01 runs version 2; T02, T03, T04 version 1
    now = datetime.now(UTC).replace(tzinfo=None)
    cost = accounts.FAST_TEST_COST
    accounts.add_account(shops, "ani", "admin", "a long pass phrase", now, cost=cost)
    config = FleetConfig(signing=SigningSettings(dir=str(signing_dir)))
    app = create_app(shops, ConsoleSettings(secure_cookies=False), cost=cost, fleet=config)
    admin = signed_in(app, "ani", "a long pass phrase")
    token = csrf_of(admin.get("/config/edit?scope=group:north").text)
    preview = admin.post(
        "/config/preview",
        data={
            "csrf": token,
            "scope": "group:north",
            "document": '[[products]]\nsku = "TEH"\nname = "Teh"\nprice = 6000\n'
            'tax_class = "PPN"\n',
        },
    ).text
    assert "Applied now: 1 terminal on version 2, 3 terminals on version 1" in preview
    newest = preview.split("data-diff>")[1].split("</pre>")[0]
    assert "-price = 5500" in newest and "+price = 6000" in newest
    applied = preview.split("data-applied-diff>")[1].split("</pre>")[0]
    assert "-price = 5000" in applied and "+price = 6000" in applied
