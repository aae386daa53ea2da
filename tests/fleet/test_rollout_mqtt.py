"""Signed configuration pushed in waves through a real Mosquitto (mutual TLS, the fleet's
ACLs), the ingest (``fleet.server.IngestServer``) storing the answers, ``pos-fleet`` run
as a process, and simulated terminals: paho clients with their own certificates that
take their retained ``down/cfg``, check every document with the terminal's verifier
(``terminal.core.signed_config``, the root pinned) and answer on ``up/cfg-status``."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import msgspec
import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from fleet import signing
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.models import Alert, TerminalConfig
from fleet.registry import register_terminal
from fleet.server import BrokerSettings, IngestServer
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from tests.conftest import ROOT
from tests.fleet_world import wait_for
from tests.mosquitto import start_broker

DEADLINE = 15.0


def price_toml(amount: int) -> str:
    return (
        '[taxes.PPN]\nrate = "11"\n\n'
        f'[[products]]\nsku = "TEH"\nname = "Teh Botol"\nprice = {amount}\ntax_class = "PPN"\n'
    )


class SimTerminal:
    """A terminal's configuration side: verifies each bundle as the terminal does (the
    root pinned at enrollment, versions only going up), applies it, and reports."""

    def __init__(
        self,
        world,
        tid: str,
        group: str,
        *,
        refuse: bool = False,
        hold: threading.Event | None = None,
        answer: bool = True,
        client_id: str = "",
    ):
        self.tid, self.group = tid, group
        self.refuse, self.hold, self.answer = refuse, hold, answer
        self.trust = sc.Trust(world.root_public)
        self.applied: dict[str, tuple[int, dict]] = {}
        self.bundles: list[fp.ConfigBundle] = []
        self.statuses: list[fp.ConfigStatus] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or f"sim-{tid}", protocol=mqtt.MQTTv5
        )
        cafile, certfile, keyfile = world.broker.credentials(tid)
        self.client.tls_set(
            str(cafile), str(certfile), str(keyfile), tls_version=ssl.PROTOCOL_TLS_CLIENT
        )
        self.client.on_connect = lambda c, *_a: c.subscribe(fp.topic(tid, "down/cfg"), qos=1)
        self.client.on_message = self._on_message
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.broker = world.broker

    def connect(self) -> SimTerminal:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10)
        return self

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, _client, _userdata, message) -> None:
        bundle = fp.decode("down/cfg", message.payload)
        self.bundles.append(bundle)
        if self.answer:
            threading.Thread(target=self._apply, args=(bundle,), daemon=True).start()

    def _apply(self, bundle: fp.ConfigBundle) -> None:
        if self.hold is not None:  # answers only once the test lets it
            assert self.hold.wait(30)
        now = datetime.now(UTC)
        try:
            if self.trust.key_list_envelope != bundle.key_list.encode():
                self.trust.accept_key_list(bundle.key_list.encode(), now)
            changed = {}
            for envelope in bundle.documents:
                label = _label(envelope)
                held = self.applied.get(label)
                if held and held[0] == _version(envelope):
                    continue  # the same document again (the bundle carries every scope)
                checked = sc.verify_config(
                    envelope.encode(),
                    trust=self.trust,
                    terminal_id=self.tid,
                    group=self.group,
                    applied_versions={k: v for k, (v, _d) in self.applied.items()},
                    now=now,
                )
                changed[label] = (checked.version, checked.document)
            if self.refuse:
                raise sc.ConfigRefused("invalid", "products.TEH.price: below 0")
        except sc.ConfigRefused as exc:
            self._report(
                fp.ConfigStatus("refused", "", {}, exc.reason, exc.message, bundle.rollout)
            )
            return
        self.applied.update(changed)
        versions = {k: v for k, (v, _d) in self.applied.items()}
        self._report(fp.ConfigStatus("applied", "", versions, rollout=bundle.rollout))

    def _report(self, status: fp.ConfigStatus) -> None:
        self.statuses.append(status)
        self.client.publish(fp.topic(self.tid, "up/cfg-status"), fp.encode(status), qos=1)

    def version(self, label: str) -> int | None:
        held = self.applied.get(label)
        return held[0] if held else None

    def price(self, label: str) -> int:
        return self.applied[label][1]["products"][0]["price"]


def _payload(envelope: str) -> sc.ConfigPayload:
    return msgspec.json.decode(
        base64.b64decode(json.loads(envelope)["payload"]), type=sc.ConfigPayload
    )


def _label(envelope: str) -> str:
    return _payload(envelope).scope.label


def _version(envelope: str) -> int:
    return _payload(envelope).version


class World:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.broker = start_broker(tmp_path / "broker")
        self.db_url = f"sqlite:///{tmp_path / 'fleet.db'}"
        self.db = connect(self.db_url)
        create_tables(self.db)
        root_dir, self.signing_dir = tmp_path / "root", tmp_path / "signing"
        signing.init(root_dir, self.signing_dir, datetime.now(UTC) - timedelta(minutes=1))
        self.root_public = (root_dir / signing.ROOT_PUBLIC).read_bytes()
        cafile, certfile, keyfile = self.broker.credentials("fleet-ingest")
        self.config = tmp_path / "fleet.toml"
        self.config.write_text(
            f'[database]\nurl = "{self.db_url}"\n\n'
            f'[broker]\nhost = "{self.broker.host}"\nport = {self.broker.port}\n'
            f'ca_file = "{cafile}"\ncert_file = "{certfile}"\nkey_file = "{keyfile}"\n'
            'client_id = "fleet-ingest-1"\n\n'
            f'[signing]\ndir = "{self.signing_dir}"\n'
        )
        self.server = IngestServer(
            Ingest(connect(self.db_url)),
            BrokerSettings(self.broker.host, self.broker.port, cafile, certfile, keyfile),
        )
        self.server.start()
        self.sims: list[SimTerminal] = []

    def terminal(self, tid: str, group: str, *, online: bool = True, **kw) -> SimTerminal:
        pem = sc.public_pem(Ed25519PrivateKey.generate().public_key())
        register_terminal(self.db, tid, store="S1", group=group, public_key_pem=pem)
        sim = SimTerminal(self, tid, group, **kw)
        self.sims.append(sim)
        return sim.connect() if online else sim

    def write(self, name: str, text: str):
        path = self.tmp / name
        path.write_text(text)
        return path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "fleet.cli", *args, "--config", str(self.config)]

    def fleet(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), cwd=ROOT, capture_output=True, text=True, timeout=60
        )

    def close(self) -> None:
        for sim in self.sims:
            sim.close()
        self.server.stop()
        self.broker.stop()
        self.db.close()


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


def retained_bundle(world, tid: str) -> fp.ConfigBundle:
    """What a terminal connecting now is given on its ``down/cfg``."""
    late = SimTerminal(world, tid, "-", answer=False, client_id=f"probe-{tid}").connect()
    try:
        wait_for(lambda: late.bundles, f"the retained bundle of {tid}", DEADLINE)
        return late.bundles[0]
    finally:
        late.close()


def test_a_push_to_a_group_reaches_its_terminals_only_and_a_late_one_at_connect(world):
    t1 = world.terminal("T01", "north")
    t2 = world.terminal("T02", "north")
    late = world.terminal("T03", "north", online=False)
    south = world.terminal("T05", "south")
    doc = world.write("north.toml", price_toml(5500))
    pushed = world.fleet(
        "config", "push", "--scope", "group:north", str(doc), "--wait", "4", "--gate-offline", "1"
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "group:north version 1 signed: rollout 1, 3 terminals in 1 wave (3)" in pushed.stdout
    assert "wave 1/1: 3 terminals, 2 applied, 0 refused, 1 without an answer" in pushed.stdout
    assert "rollout 1 done: group:north version 1 everywhere" in pushed.stdout
    assert (t1.version("group:north"), t1.price("group:north")) == (1, 5500)
    assert t2.version("group:north") == 1
    late.connect()  # it was off: the retained bundle waits for it
    wait_for(lambda: late.version("group:north") == 1, "T03 applies at connect", DEADLINE)
    wait_for(lambda: TerminalConfig.select().bind(world.db).count() == 3, "3 statuses", DEADLINE)
    assert south.bundles == []
    status = world.fleet("config", "status")
    assert status.returncode == 0, status.stderr
    lines = {line.split()[1]: line for line in status.stdout.splitlines() if "│ T0" in line}
    for tid in ("T01", "T02", "T03"):
        assert "group:north v1" in lines[tid] and "applied" in lines[tid]
    assert "no report yet" in lines["T05"]
    only_north = world.fleet("config", "status", "--group", "north")
    assert "T05" not in only_north.stdout and "T03" in only_north.stdout


def test_a_wave_failing_its_gate_stops_the_rollout_and_the_third_wave_keeps_the_old(world):
    sims = [world.terminal(f"T0{n}", "north") for n in range(1, 5)]
    first = world.fleet(
        "config", "push", "--scope", "group:north", str(world.write("a.toml", price_toml(5000)))
    )
    assert first.returncode == 0, first.stdout + first.stderr
    sims[1].refuse = True  # T02, the second wave
    second = world.fleet(
        "config", "push", "--scope", "group:north", str(world.write("b.toml", price_toml(6000))),
        "--waves", "25%,50%,100%", "--wait", "15",
    )  # fmt: skip
    assert second.returncode == 1, second.stdout + second.stderr
    out = second.stdout
    assert "rollout 2, 4 terminals in 3 waves (1, 1, 2)" in out
    assert "wave 1/3: 1 terminal, 1 applied, 0 refused" in out
    assert "wave 2/3: 1 terminal, 0 applied, 1 refused" in out
    assert "wave 3/3" not in out
    assert "rollout 2 STOPPED by its health gate: wave 2 of 3: 1 refused" in out
    assert "never sent to T03, T04 (they keep the configuration they have)" in out
    assert sims[0].price("group:north") == 6000
    assert sims[1].price("group:north") == 5000 and sims[1].statuses[-1].reason == "invalid"
    for sim in sims[2:]:
        assert len(sim.bundles) == 1 and sim.price("group:north") == 5000
        kept = retained_bundle(world, sim.tid)  # what it would get on reconnecting
        assert [_version(e) for e in kept.documents] == [1] and kept.rollout == "1"
    (alert,) = Alert.select().where(Alert.kind == "config refused").bind(world.db)
    assert alert.terminal_id == "T02" and "invalid" in alert.detail and "rollout 2" in alert.detail
    status = world.fleet("rollout", "status")
    assert status.returncode == 0
    assert "Rollout 2: group:north version 2, stopped" in " ".join(status.stdout.split())
    assert "T02 refused: invalid" in status.stdout


def test_pause_and_abort_from_another_shell(world):
    hold = threading.Event()  # T01, the first wave, answers only when let
    sims = [world.terminal(f"T0{n}", "north", hold=hold if n == 1 else None) for n in range(1, 5)]
    doc = str(world.write("a.toml", price_toml(7000)))
    push = subprocess.Popen(
        world.command("config", "push", "--group", "north", doc,
                      "--waves", "25%,50%,100%", "--wait", "20"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: sims[0].bundles, "wave 1 sent", DEADLINE)
        paused = world.fleet("rollout", "pause")  # while wave 1 waits for T01's answer
        assert paused.returncode == 0 and "rollout 1 paused" in paused.stdout, paused.stderr
        out, _ = push.communicate(timeout=30)
        hold.set()
    finally:
        push.kill()
    assert push.returncode == 1, out
    assert "rollout 1 paused; never sent to T02, T03, T04" in out
    assert all(sim.bundles == [] for sim in sims[1:])
    resumed = world.fleet("rollout", "resume", "1")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "rollout 1 resumed at wave 1" in resumed.stdout
    assert "rollout 1 done" in resumed.stdout
    assert len(sims[0].bundles) == 1  # wave 1 is not sent again
    wait_for(lambda: all(s.version("group:north") == 1 for s in sims), "all at v1", DEADLINE)

    hold.clear()
    doc = str(world.write("b.toml", price_toml(8000)))
    push = subprocess.Popen(
        world.command("config", "push", "--scope", "group:north", doc,
                      "--waves", "25%,100%", "--wait", "20"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(sims[0].bundles) == 2, "wave 1 sent", DEADLINE)
        aborted = world.fleet("rollout", "abort", "2")
        assert aborted.returncode == 0 and "rollout 2 aborted" in aborted.stdout
        out, _ = push.communicate(timeout=30)
        hold.set()
    finally:
        push.kill()
    assert push.returncode == 1 and "rollout 2 aborted" in out
    assert all(len(sim.bundles) == 1 for sim in sims[1:])
    again = world.fleet("rollout", "resume", "2")
    assert again.returncode == 1 and "rollout 2 is aborted, not paused" in again.stdout


def test_rollback_sends_the_previous_content_as_a_new_version(world):
    sims = [world.terminal(f"T0{n}", "north") for n in (1, 2)]
    for amount in (5000, 9999):
        done = world.fleet(
            "config",
            "push",
            "--scope",
            "group:north",
            str(world.write(f"{amount}.toml", price_toml(amount))),
        )
        assert done.returncode == 0, done.stdout + done.stderr
    wait_for(lambda: all(s.price("group:north") == 9999 for s in sims if s.applied), "v2", DEADLINE)
    back = world.fleet(
        "config", "rollback", "--scope", "group:north", "--waves", "50%,100%", "--wait", "15"
    )
    assert back.returncode == 0, back.stdout + back.stderr
    assert "group:north version 3 (the content of version 1) signed: rollout 3" in back.stdout
    for sim in sims:
        assert (sim.version("group:north"), sim.price("group:north")) == (3, 5000)
    nothing = world.fleet("config", "rollback", "--scope", "group:south")
    assert (
        nothing.returncode == 1 and "no document pushed, nothing to roll back to" in nothing.stdout
    )


def test_bad_input_and_an_unreachable_broker_are_met_with_a_clear_message(world):
    world.terminal("T01", "north")
    doc = str(world.write("a.toml", price_toml(5000)))
    for args, code, says in (
        (("config", "push", "--group", "north", doc, "--waves", "50%,10%"), 2, "larger share"),
        (("config", "push", "--group", "west", doc), 1, "group:west: no registered terminal"),
        (("config", "push", doc), 2, "one of the arguments --scope --group --terminal"),
        (("rollout", "status"), 1, "no rollout yet"),
        (("rollout", "resume", "7"), 1, "no rollout 7"),
        (("config", "rollback", "--group", "north"), 1, "nothing to roll back to"),
    ):
        done = world.fleet(*args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert says in done.stdout + done.stderr and "Traceback" not in done.stderr
    world.broker.stop()
    down = world.fleet("config", "push", "--group", "north", doc)
    assert down.returncode == 1 and "Traceback" not in down.stderr, down.stdout + down.stderr
    assert "is not reachable" in down.stdout and "paused" in down.stdout
    status = world.fleet("rollout", "status", "1")
    assert "paused" in status.stdout
