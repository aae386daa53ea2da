"""The fleet's side of jobs: ``up/job/{id}`` stored by the ingest (strict; an unknown
terminal, a refused or failed job raised as alerts), and ``pos-fleet jobs send|status``
run as processes through a real Mosquitto (mutual TLS, the fleet's ACLs) with the ingest
server and simulated terminals that take their retained ``down/job/{id}`` and answer;
the retained job is cleared once its answer is final; a ``running`` step's progress and
certificate request are kept, and never replace a final answer."""

from __future__ import annotations

import json
import ssl
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from fleet import pki
from fleet.ingest import JobDone
from fleet.models import Alert, Job, JobProgress, JobTarget
from fleet.registry import register_terminal
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from tests.fleet.test_rollout_mqtt import World
from tests.fleet_world import wait_for

DEADLINE = 15.0
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)


def register(db, tid: str, group: str) -> None:
    pem = sc.public_pem(Ed25519PrivateKey.generate().public_key())
    register_terminal(db, tid, store="S1", group=group, public_key_pem=pem)


def answer(job_id: str, state: str, detail: str = "", data=None) -> bytes:
    return fp.encode(fp.JobResult(job_id, state, NOW, detail, data or {}))


def sent(db, job_id: str, *tids: str) -> None:
    Job.insert(
        id=job_id,
        kind="diagnostics",
        target="group:north",
        issued_at=NOW.replace(tzinfo=None),
        expires_at=(NOW + timedelta(hours=1)).replace(tzinfo=None),
    ).execute(db)
    JobTarget.insert_many([{"job": job_id, "terminal_id": t} for t in tids]).execute(db)


# -- the ingest, in-process -------------------------------------------------------------------
def test_results_are_stored_and_a_final_one_clears_the_job(fleet_db, ingest):
    register(fleet_db, "T01", "north")
    sent(fleet_db, "j-1", "T01")
    topic = fp.topic("T01", "up/job", "j-1")
    assert ingest.raw(topic, answer("j-1", "accepted", "waits")) is None
    row = JobTarget.select().bind(fleet_db).get()
    assert (row.state, row.detail) == ("accepted", "waits")
    done = ingest.raw(topic, answer("j-1", "done", data={"software": "1.2"}))
    assert done == JobDone("T01", "j-1")
    ingest.raw(topic, answer("j-1", "accepted", "late"))  # a final answer stays
    row = JobTarget.select().bind(fleet_db).get()
    assert (row.state, json.loads(row.data_json)) == ("done", {"software": "1.2"})
    assert Alert.select().bind(fleet_db).count() == 0


def test_refused_failed_and_unknown_terminals_are_alerts(fleet_db, ingest):
    register(fleet_db, "T01", "north")
    sent(fleet_db, "j-2", "T01")
    ingest.raw(fp.topic("T01", "up/job", "j-2"), answer("j-2", "refused", "expired"))
    ingest.raw(fp.topic("T99", "up/job", "j-2"), answer("j-2", "done"))
    kinds = {(a.terminal_id, a.kind) for a in Alert.select().bind(fleet_db)}
    assert kinds == {("T01", "job refused"), ("T99", "unknown terminal")}
    ingest.raw(fp.topic("T01", "up/job", "j-3"), answer("j-3", "failed", "boom"))
    assert Alert.select().where(Alert.kind == "job failed").bind(fleet_db).count() == 1


def test_malformed_results_are_refused(fleet_db, ingest):
    register(fleet_db, "T01", "north")
    sent(fleet_db, "j-4", "T01")
    topic = fp.topic("T01", "up/job", "j-4")
    for bad in (
        answer("j-5", "done"),  # another job's result on this topic
        answer("j-4", "done").replace(b'"done"', b'"maybe"'),
        answer("j-4", "done").replace(b"}", b',"x":1}', 1),
        b"\xff",
        b"",
    ):
        assert ingest.raw(topic, bad) is None
    assert ingest.raw("pos/v1/T01/up/job", answer("j-4", "done")) is None
    assert JobTarget.select().bind(fleet_db).get().state is None
    assert ingest.stats["bad message"] == 5 and ingest.stats["bad topic"] == 1


# -- pos-fleet jobs send | status through a real broker --------------------------------------
class SimTerminal:
    """A terminal's job side: takes its retained jobs and answers done (diagnostics with
    data), or refused when ``refuse``."""

    def __init__(self, world, tid: str, *, refuse: bool = False) -> None:
        self.tid, self.refuse = tid, refuse
        self.jobs: list[fp.Job] = []
        self.cleared: list[str] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"sim-{tid}", protocol=mqtt.MQTTv5
        )
        cafile, certfile, keyfile = world.broker.credentials(tid)
        self.client.tls_set(
            str(cafile), str(certfile), str(keyfile), tls_version=ssl.PROTOCOL_TLS_CLIENT
        )
        self.client.on_connect = lambda c, *_a: c.subscribe(fp.topic(tid, "down/job", "+"), qos=1)
        self.client.on_message = self._on_message
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.connect(world.broker.host, world.broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, _client, _userdata, message) -> None:
        if not message.payload:
            self.cleared.append(message.topic.rsplit("/", 1)[1])
            return
        job = fp.decode("down/job", message.payload)
        self.jobs.append(job)
        if self.refuse:
            reply = answer(job.id, "refused", "expired")
        else:
            reply = answer(job.id, "done", "", {"software": "9.9", "link": "connected"})
        self.client.publish(fp.topic(self.tid, "up/job", job.id), reply, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.close()


def test_jobs_send_and_status_as_processes(world):
    for tid in ("T01", "T02", "T05"):
        register(world.db, tid, "south" if tid == "T05" else "north")
    t1, t2 = SimTerminal(world, "T01"), SimTerminal(world, "T02", refuse=True)
    south = SimTerminal(world, "T05")
    try:
        out = world.fleet("jobs", "send", "diagnostics", "--group", "north", "--id", "d-1")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "job d-1 (diagnostics) sent to 2 terminals of group:north" in out.stdout
        wait_for(
            lambda: (
                JobTarget.select().where(JobTarget.state.is_null(False)).bind(world.db).count() == 2
            ),
            "two answers",
            DEADLINE,
        )
        assert [j.kind for j in t1.jobs] == ["diagnostics"] and south.jobs == []
        wait_for(lambda: t1.cleared == ["d-1"] and t2.cleared == ["d-1"], "cleared", DEADLINE)
        status = world.fleet("jobs", "status")
        assert status.returncode == 0, status.stderr
        lines = {line.split()[1]: line for line in status.stdout.splitlines() if "│ T0" in line}
        assert "done" in lines["T01"] and "software=9.9" in lines["T01"]
        assert "refused" in lines["T02"] and "expired" in lines["T02"]
        assert "Job d-1: diagnostics to group:north" in status.stdout
        (alert,) = Alert.select().bind(world.db)
        assert (alert.terminal_id, alert.kind) == ("T02", "job refused")

        late = world.fleet(
            "jobs", "send", "message", "--terminal", "T05", "--text", "Hello", "--id", "m-1"
        )
        assert late.returncode == 0, late.stderr
        wait_for(lambda: [j.text for j in south.jobs] == ["Hello"], "T05's message", DEADLINE)
        again = world.fleet("jobs", "send", "message", "--terminal", "T05", "--id", "m-1")
        assert again.returncode == 1 and "exists already" in again.stdout
        nobody = world.fleet("jobs", "send", "lock", "--group", "east")
        assert nobody.returncode == 1 and "no terminal" in nobody.stdout
        assert world.fleet("jobs", "status", "nope").returncode == 1
    finally:
        for sim in (t1, t2, south):
            sim.close()


def test_a_terminal_that_was_off_gets_its_pending_job_at_connect(world):
    register(world.db, "T01", "north")
    out = world.fleet("jobs", "send", "x_report", "--terminal", "T01", "--id", "x-1")
    assert out.returncode == 0, out.stdout + out.stderr
    t1 = SimTerminal(world, "T01")  # connects after the send: the retained job waits
    try:
        wait_for(lambda: [j.id for j in t1.jobs] == ["x-1"], "the pending job", DEADLINE)
        wait_for(lambda: JobTarget.select().bind(world.db).get().state == "done", "done", DEADLINE)
    finally:
        t1.close()


def test_running_steps_keep_their_progress_and_a_request_until_a_final_answer(fleet_db, ingest):
    register(fleet_db, "T01", "north")
    sent(fleet_db, "r-1", "T01")
    topic = fp.topic("T01", "up/job", "r-1")
    csr = pki.request(pki.new_key(), "T01").public_bytes(serialization.Encoding.PEM).decode()
    step = fp.JobResult("r-1", "running", NOW, "a new key made", {}, 50, csr)
    assert ingest.raw(topic, fp.encode(step)) is None  # not final: the job stays retained
    row = JobTarget.select().bind(fleet_db).get()
    progress = JobProgress.select().bind(fleet_db).get()
    assert (row.state, row.detail, progress.progress, progress.csr) == (
        "running",
        "a new key made",
        50,
        csr,
    )
    later = fp.JobResult("r-1", "running", NOW, "installing", {}, 60)
    ingest.raw(topic, fp.encode(later))
    progress = JobProgress.select().bind(fleet_db).get()
    assert (progress.progress, progress.csr) == (60, csr)  # the request is kept
    assert ingest.raw(topic, answer("r-1", "done", "installed")) == JobDone("T01", "r-1")
    ingest.raw(topic, fp.encode(fp.JobResult("r-1", "running", NOW, "late", {}, 70)))
    row = JobTarget.select().bind(fleet_db).get()
    assert (row.state, row.detail) == ("done", "installed")  # a final answer stays
    assert JobProgress.select().bind(fleet_db).get().progress == 60
    for bad in (b'"progress":101', b'"progress":-1', b'"csr":"not a request"'):
        raw = fp.encode(later)[:-1] + b"," + bad + b"}"
        raw = raw.replace(b',"progress":60', b"").replace(b',"csr":""', b"")
        assert ingest.raw(topic, raw) is None
    assert ingest.stats["bad message"] == 3
