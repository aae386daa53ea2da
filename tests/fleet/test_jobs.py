"""Jobs from the fleet (issue 14): a real Mosquitto (mutual TLS, the fleet's ACLs), the
agent on a thread of its own, the app's side polled as the window's clock does, and on
the fleet's side a small paho client with the fleet-ingest certificate that publishes
retained jobs on ``pos/v1/T01/down/job/{id}`` and keeps the results from ``up/job/+``."""

from __future__ import annotations

import dataclasses
import queue
import threading
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hal.printer.preview import interpret
from terminal.core import fleet_protocol as fp
from terminal.core.errors import PosError
from terminal.services.bootstrap import build_terminal
from terminal.services.fleet_jobs import FleetJobs, FleetLocked
from terminal.store import fleet_jobs, outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import with_open_shift
from tests.fleet.test_agent import TID, AgentThread, fleet_settings, wait_for
from tests.mosquitto import start_broker

COFFEE = "KOPI-KPL"


class JobStub:
    """The fleet's side: publishes retained jobs and keeps the results per job id."""

    def __init__(self, broker, now) -> None:
        self.now = now
        self.results: list[tuple[str, fp.JobResult]] = []
        self.lock = threading.Lock()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-fleet-jobs", protocol=mqtt.MQTTv5
        )
        cafile, certfile, keyfile = broker.credentials("fleet-ingest")
        client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
        answers: queue.Queue = queue.Queue()
        client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
        client.on_subscribe = lambda _c, _u, _m, codes, _p: answers.put(codes)
        client.on_message = self._on_message
        client.connect(broker.host, broker.port)
        client.loop_start()
        assert not answers.get(timeout=5).is_failure
        client.subscribe(fp.topic(TID, "up/job", "+"), qos=1)
        answers.get(timeout=5)
        self.client = client

    def _on_message(self, _client, _userdata, message) -> None:
        tid, kind, job_id = fp.parse_job_topic(message.topic)
        result = fp.decode(kind, message.payload)
        assert (tid, result.id) == (TID, job_id)
        with self.lock:
            self.results.append((job_id, result))

    def job(self, job_id: str, kind: str, text: str = "", expires=timedelta(hours=1)) -> bytes:
        return fp.encode(fp.Job(job_id, kind, self.now(), self.now() + expires, text))

    def send(self, job_id: str, kind: str, text: str = "", **options) -> bytes:
        payload = self.job(job_id, kind, text, **options)
        self.publish(job_id, payload)
        return payload

    def publish(self, job_id: str, payload: bytes) -> None:
        info = self.client.publish(fp.topic(TID, "down/job", job_id), payload, qos=1, retain=True)
        info.wait_for_publish(5)

    def ack(self, seq: int) -> None:
        """As the ingest acknowledges the journal up to ``seq``."""
        info = self.client.publish(fp.topic(TID, "down/ack"), fp.encode(fp.Ack(seq)), qos=1)
        info.wait_for_publish(5)

    def of(self, job_id: str) -> list[tuple[str, str]]:
        with self.lock:
            return [(r.state, r.detail) for i, r in self.results if i == job_id]

    def last(self, job_id: str) -> fp.JobResult:
        with self.lock:
            return [r for i, r in self.results if i == job_id][-1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker")
    yield broker
    broker.kill()


@pytest.fixture
def stub(broker, clock):
    stub = JobStub(broker, clock)
    yield stub
    stub.close()


@pytest.fixture
def terminal(settings, clock, broker):
    fleet = fleet_settings(broker)
    built = build_terminal(
        dataclasses.replace(settings, fleet=fleet), clock=clock, pin_params=FAST_TEST_PARAMS
    )
    return with_open_shift(built)


@pytest.fixture
def agent(clock):
    started = []

    def start(settings):
        thread = AgentThread(settings, wall=clock)
        started.append(thread)
        return thread

    yield start
    for thread in started:
        if thread.thread.is_alive():
            thread.stop()


def until(terminal, stub, job_id: str, states: tuple[str, ...], deadline: float = 20.0):
    """Poll the app's side until the fleet has these states for the job."""

    def seen():
        terminal.pos.fleet_jobs.poll()
        return [s for s, _d in stub.of(job_id)] == list(states)

    try:
        wait_for(seen, f"{job_id}: {states}", deadline)
    except TimeoutError:
        raise AssertionError(f"{job_id}: {stub.of(job_id)}, not {states}") from None
    return stub.last(job_id)


def journaled(pos) -> list[dict]:
    return [e["payload"] for e in read_entries(pos.db, types=("job",))]


def test_a_message_is_shown_recorded_and_a_repeat_ignored(terminal, stub, agent):
    pos = terminal.pos
    shown = []
    pos.events.subscribe(lambda e: shown.append(e.data["text"]), {"fleet_message"})
    agent(pos.settings)
    payload = stub.send("m-1", "message", "Stock count at 17:00")
    done = until(terminal, stub, "m-1", ("done",))
    assert done.detail == "shown" and shown == ["Stock count at 17:00"]
    assert pos.fleet_jobs.message == "Stock count at 17:00"
    assert journaled(pos) == [{"id": "m-1", "kind": "message", "result": "done", "detail": "shown"}]
    stub.publish("m-1", payload)  # the same id again: ignored
    with pytest.raises(AssertionError):
        until(terminal, stub, "m-1", ("done", "done"), deadline=1.5)
    assert shown == ["Stock count at 17:00"] and len(journaled(pos)) == 1


def test_an_expired_job_is_refused_not_run(terminal, stub, agent):
    pos = terminal.pos
    agent(pos.settings)
    stub.send("m-old", "message", "too late", expires=timedelta(seconds=-1))
    refused = until(terminal, stub, "m-old", ("refused",))
    assert refused.detail == "expired" and pos.fleet_jobs.message is None
    wait_for(lambda: (pos.fleet_jobs.poll(), journaled(pos))[1], "journaled")
    assert journaled(pos) == [
        {"id": "m-old", "kind": "message", "result": "refused", "detail": "expired"}
    ]


def test_send_now_and_diagnostics_run_in_the_agent(terminal, stub, agent):
    """Send now is running (with its progress) until the fleet holds the journal up to
    the head it saw; diagnostics report their step, then their data."""
    pos = terminal.pos
    agent(pos.settings)
    stub.send("s-1", "send_now")
    running = until(terminal, stub, "s-1", ("running",))
    assert running.progress == 0 and running.detail.endswith("entries to send")
    stub.ack(outbox.head_seq(pos.db))  # the fleet holds it all now
    done = until(terminal, stub, "s-1", ("running", "done"))
    assert done.data["unsent"] == "0" and done.progress is None
    stub.send("d-1", "diagnostics")
    data = until(terminal, stub, "d-1", ("running", "done")).data
    assert data["link"] == "connected" and data["software"] and data["unsent"].isdigit()
    assert data["certificate_serial"]  # the certificate this connection showed
    wait_for(lambda: (pos.fleet_jobs.poll(), len(journaled(pos)) == 4)[1], "journaled")
    assert [(j["id"], j["result"], j.get("progress")) for j in journaled(pos)] == [
        ("s-1", "running", 0),
        ("s-1", "done", None),
        ("d-1", "running", 0),
        ("d-1", "done", None),
    ]


def test_diagnostics_carry_the_device_health(terminal, stub, agent, clock):
    pos = terminal.pos
    outbox.record_device_events(pos.db, [("paper-out", False), ("drawer-open", False)], clock())
    outbox.record_device_events(pos.db, [("drawer-open", True)], clock())
    agent(pos.settings)
    stub.send("d-2", "diagnostics")
    data = until(terminal, stub, "d-2", ("running", "done")).data
    assert data["device.paper-out"] == "on" and data["device.drawer-open"] == "cleared"


def test_a_lock_during_a_sale_waits_for_its_end_then_blocks_the_next_scan(terminal, stub, agent):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan(COFFEE)  # a sale in progress
    agent(pos.settings)
    stub.send("l-1", "lock", "stock count")
    accepted = until(terminal, stub, "l-1", ("accepted",))
    assert "sale in progress" in accepted.detail
    pos.scan(COFFEE)  # the open sale goes on
    pos.pay_cash(50000)
    until(terminal, stub, "l-1", ("accepted", "done"))
    with pytest.raises(FleetLocked) as refused:
        pos.scan(COFFEE)
    assert str(refused.value) == "Locked by the fleet: stock count"
    assert pos.cart.is_empty

    stub.send("u-1", "unlock")
    until(terminal, stub, "u-1", ("done",))
    pos.scan(COFFEE)  # sales again
    assert [(j["id"], j["result"]) for j in journaled(pos)] == [
        ("l-1", "accepted"),
        ("l-1", "done"),
        ("u-1", "done"),
    ]


def test_the_lock_takes_effect_at_the_next_scan_even_before_the_poll(terminal, stub, agent):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan(COFFEE)
    agent(pos.settings)
    stub.send("l-2", "lock", "audit")
    until(terminal, stub, "l-2", ("accepted",))
    pos.pay_cash(50000)
    with pytest.raises(FleetLocked):  # the scan itself finds the cart empty: locked
        pos.scan(COFFEE)
    assert fleet_jobs.lock_reason(pos.db) == "audit"


def test_the_lock_survives_a_restart(terminal, stub, agent):
    pos = terminal.pos
    agent(pos.settings)
    stub.send("l-3", "lock", "closed for inventory")
    until(terminal, stub, "l-3", ("done",))
    pos.fleet_jobs = FleetJobs(pos)  # as the app's next start reads it
    pos.sign_in("1", "1357")
    with pytest.raises(PosError, match="closed for inventory"):
        pos.scan(COFFEE)


def test_an_x_report_is_printed_and_refused_without_a_shift(terminal, stub, agent):
    pos = terminal.pos
    agent(pos.settings)
    stub.send("x-1", "x_report")
    done = until(terminal, stub, "x-1", ("done",))
    assert done.detail.startswith("printed")
    assert "LAPORAN X" in "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    (entry,) = [e["payload"] for e in read_entries(pos.db, types=("x_report",))]
    assert entry["job"] == "x-1" and entry["cashier"] is None

    pos.sign_in("1", "1357")
    pos.shifts.close({})
    pos.sign_out()
    stub.send("x-2", "x_report")
    refused = until(terminal, stub, "x-2", ("refused",))
    assert refused.detail == "Open the shift first (count the opening float)"
