"""The terminal's fleet agent against a real Mosquitto (mutual TLS, the fleet's ACLs): the
journal of a terminal made by the terminal's own code, the agent running for real on a
thread of its own with its own database connection, and on the fleet's side a small
paho subscriber with the fleet-ingest certificate that keeps what it receives and
answers Acks (the real ingest server is tested on its own)."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from terminal.config import FleetSettings
from terminal.core import fleet_protocol as fp
from terminal.core.errors import ConfigError
from terminal.fleet.agent import Agent, AgentLock, check_credentials, open_agent_database, run_agent
from terminal.fleet.backoff import Backoff
from terminal.services.bootstrap import build_terminal
from terminal.services.fleet_link import agent_dir, agent_running
from terminal.store import outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import with_open_shift
from tests.mosquitto import start_broker

TID = "T01"
DEADLINE = 20.0


def wait_for(condition: Callable[[], object], what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError(f"never happened: {what}")


# -- the fleet's side: a tiny subscriber that acknowledges ---------------------------------------
class FakeFleet:
    """Subscribes to every terminal's up/ and state with the fleet-ingest certificate;
    keeps each entry by seq (a second copy is fine: the real fleet is idempotent), each
    batch's seqs in arrival order, the states and events. ``auto_ack``: after each batch,
    Ack the highest contiguous seq it holds (as the fleet does once committed)."""

    def __init__(
        self, broker, *, auto_ack: bool = True, delay: float = 0.0, hold: int | None = None
    ) -> None:
        self.broker = broker
        self.auto_ack = auto_ack
        self.delay = delay  # seconds per batch: a slower fleet
        self.hold = hold  # Acks go no further than this (a drain held midway) until None
        self.entries: dict[int, fp.Entry] = {}
        self.batches: list[list[int]] = []
        self.heads: list[int] = []
        self.states: list[fp.State] = []
        self.events: list[fp.Event] = []
        self.retained: list[fp.State] = []
        self.log: list[tuple[str, object]] = []  # every message, in arrival order
        self.lock = threading.Lock()
        self.client = None
        self.connect()

    def connect(self) -> None:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-fleet-ingest", protocol=mqtt.MQTTv5
        )
        cafile, certfile, keyfile = self.broker.credentials("fleet-ingest")
        client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
        answers: queue.Queue = queue.Queue()
        client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
        client.on_subscribe = lambda _c, _u, _m, codes, _p: answers.put(codes)
        client.on_message = self._on_message
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        assert not answers.get(timeout=5).is_failure
        client.subscribe([("pos/v1/+/up/#", 1), ("pos/v1/+/state", 1)])
        answers.get(timeout=5)
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None

    def _on_message(self, _client, _userdata, message) -> None:
        tid, kind = fp.parse_topic(message.topic)
        decoded = fp.decode(kind, message.payload)
        with self.lock:
            self.log.append((kind, decoded))
            if kind == "state":
                (self.retained if message.retain else self.states).append(decoded)
            elif kind == "up/event":
                self.events.append(decoded)
            elif kind == "up/journal":
                if self.delay:
                    time.sleep(self.delay)
                for entry in decoded.entries:
                    self.entries[entry.seq] = entry
                self.batches.append([e.seq for e in decoded.entries])
                self.heads.append(decoded.head)
        if kind == "up/journal" and self.auto_ack:
            held = self.hold
            self.ack(tid, self.contiguous() if held is None else min(held, self.contiguous()))

    def contiguous(self) -> int:
        with self.lock:
            seq = 0
            while seq + 1 in self.entries:
                seq += 1
            return seq

    def ack(self, tid: str = TID, acked: int = 0, **more) -> None:
        self.send(tid, fp.encode(fp.Ack(acked, **more)))

    def send(self, tid: str, payload: bytes) -> None:
        self.client.publish(fp.topic(tid, "down/ack"), payload, qos=1)

    def sent_seqs(self) -> list[int]:
        with self.lock:
            return [seq for batch in self.batches for seq in batch]

    def all_states(self) -> list[fp.State]:
        with self.lock:
            return self.retained + self.states


def retained_state(broker, tid: str = TID, timeout: float = 5.0) -> fp.State:
    """What a newcomer reads on the terminal's state topic (retained)."""
    got: queue.Queue = queue.Queue()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="test-state-reader", protocol=mqtt.MQTTv5
    )
    cafile, certfile, keyfile = broker.credentials("fleet-ingest")
    client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
    client.on_message = lambda _c, _u, m: got.put(fp.decode("state", m.payload))
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(fp.topic(tid, "state"), qos=1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        return got.get(timeout=timeout)
    finally:
        client.disconnect()
        client.loop_stop()


# -- the terminal and its agent ------------------------------------------------------------------
def fleet_settings(broker, **changes) -> FleetSettings:
    cafile, certfile, keyfile = broker.credentials(TID)
    base = {
        "enabled": True,
        "host": broker.host,
        "port": broker.port,
        "ca_file": Path(cafile),
        "cert_file": Path(certfile),
        "key_file": Path(keyfile),
        "batch_size": 100,
        "max_in_flight": 1000,
        "keepalive_seconds": 5,
        "backoff_base_seconds": 0.05,
        "backoff_cap_seconds": 0.5,
        "ack_timeout_seconds": 30.0,
    }
    return FleetSettings(**{**base, **changes})


def with_fleet(settings, broker, **changes):
    return dataclasses.replace(settings, fleet=fleet_settings(broker, **changes))


def append(terminal, count: int, kind: str = "no_sale") -> int:
    """``count`` more journal entries, made by the terminal's journal; returns the head."""
    pos = terminal.pos
    with pos.db.atomic():
        for i in range(count):
            pos.journal.append(kind, {"reason": "check", "n": i}, pos.clock())
    return outbox.head_seq(pos.db)


class AgentThread:
    """The agent on a thread of its own, with its own database connection and the agent's
    lock, as ``pos-terminal agent`` runs it."""

    def __init__(self, settings, **options) -> None:
        self.settings = settings
        self.lock = AgentLock(agent_dir(settings.data_dir))
        assert self.lock.acquire(wait=0)
        self.db = open_agent_database(settings)
        self.agent = Agent(settings, self.db, **options)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="agent", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.agent.run()
        except BaseException as exc:  # the test says so, rather than hanging
            self.failure = exc
            raise

    def stop(self) -> None:
        self.agent.stop()
        self.thread.join(15)
        assert not self.thread.is_alive()
        self.db.close()
        self.lock.release()
        assert self.failure is None, self.failure

    def mark(self) -> int:
        return outbox.mark(self.db)


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker")
    yield broker
    broker.kill()


@pytest.fixture
def made(settings, clock, broker):
    """A terminal with the fleet on (the shift open), made by the terminal's own code."""

    def make(**changes):
        fleet = with_fleet(settings, broker, **changes)
        return with_open_shift(build_terminal(fleet, clock=clock, pin_params=FAST_TEST_PARAMS))

    return make


@pytest.fixture
def running():
    """Agents started by a test, stopped at its end."""
    started: list[AgentThread] = []

    def start(settings, **options) -> AgentThread:
        agent = AgentThread(settings, **options)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        if agent.thread.is_alive():
            agent.stop()


# -- the journal reaches the fleet ---------------------------------------------------------------
def test_entries_arrive_in_order_in_batches_and_each_ack_moves_the_mark(made, broker, running):
    terminal = made(batch_size=100)
    head = append(terminal, 450)
    fleet = FakeFleet(broker)
    agent = running(terminal.pos.settings)
    wait_for(lambda: agent.mark() == head, "the mark at the head")
    seqs = fleet.sent_seqs()
    assert seqs == list(range(1, head + 1))  # each once, in order: no resend was needed
    assert all(len(b) <= 100 and b == list(range(b[0], b[-1] + 1)) for b in fleet.batches)
    assert len(fleet.batches) == -(-head // 100)
    stored = list(read_entries(terminal.pos.db, decode=False))
    assert [e.as_journal_entry() for e in fleet.entries.values()] == [
        {name: row[name] for name in fp.Entry.__struct_fields__} for row in stored
    ]  # exactly as stored and signed
    assert fleet.heads[-1] == head and outbox.unsent(terminal.pos.db) == 0

    # a sale committed now reaches the fleet at once (the agent sees the app's COMMIT)
    started = time.monotonic()
    terminal.pos.sign_in("1", "1357")
    terminal.pos.scan("8991002101111")
    terminal.pos.pay_cash(100000)
    committed = time.monotonic()
    sale_seq = outbox.head_seq(terminal.pos.db)
    wait_for(lambda: sale_seq in fleet.entries, "the sale at the fleet", deadline=5)
    assert time.monotonic() - committed < 1.0, time.monotonic() - started
    assert fleet.entries[sale_seq].type == "sale"
    wait_for(lambda: agent.mark() == sale_seq, "the sale acknowledged")
    agent.stop()


def test_never_more_than_max_in_flight_beyond_the_mark(made, broker, running):
    terminal = made(batch_size=100, max_in_flight=250)
    head = append(terminal, 600)
    fleet = FakeFleet(broker, auto_ack=False)
    agent = running(terminal.pos.settings)
    wait_for(lambda: len(fleet.sent_seqs()) >= 250, "the first 250")
    time.sleep(0.3)  # nothing more comes without an Ack
    assert fleet.batches == [list(range(1, 101)), list(range(101, 201)), list(range(201, 251))]
    fleet.ack(acked=100)
    wait_for(lambda: agent.mark() == 100, "the mark at 100")
    wait_for(lambda: fleet.sent_seqs()[-1:] == [350], "100 more")
    time.sleep(0.3)
    assert fleet.sent_seqs()[250:] == list(range(251, 351))
    fleet.ack(acked=head)
    wait_for(lambda: agent.mark() == head, "the mark at the head")
    assert set(fleet.sent_seqs()) == set(range(1, 351))  # (all held: acked as held)


def test_resend_from_rewinds_the_sending(made, broker, running):
    terminal = made(batch_size=50, max_in_flight=200)
    append(terminal, 300)
    fleet = FakeFleet(broker, auto_ack=False)
    agent = running(terminal.pos.settings)
    wait_for(lambda: len(fleet.sent_seqs()) >= 200, "the first 200")
    # the fleet holds 1..60, found 61 bad: from 61 again
    fleet.ack(acked=60, resend_from=61, reason="bad signature at 61")
    wait_for(lambda: agent.mark() == 60, "the mark at 60")
    wait_for(lambda: [61, *range(62, 111)] in fleet.batches[4:], "61.. sent again")
    assert fleet.batches[4][0] == 61  # the next batch begins where the fleet asked
    # the same request repeated (after each later batch) does not rewind again and again
    count = len(fleet.batches)
    fleet.ack(acked=60, resend_from=61, reason="gap")
    fleet.ack(acked=60, resend_from=61, reason="gap")
    time.sleep(0.3)
    assert [b[0] for b in fleet.batches[count:]].count(61) == 0
    agent.stop()


def test_a_malformed_or_foreign_ack_is_ignored(made, broker, running, caplog):
    terminal = made(batch_size=100)
    head = append(terminal, 150)
    fleet = FakeFleet(broker, auto_ack=False)
    agent = running(terminal.pos.settings)
    wait_for(lambda: len(fleet.sent_seqs()) >= head, "everything sent")
    for junk in (
        b"",
        b"\xff\xfe",
        b"[1,2,3]",
        b'{"acked":"all"}',
        b'{"acked":-5}',
        b'{"acked":10,"resend_from":0}',
        b'{"acked":10,"by":"someone"}',
        b"{" * 100000,
    ):
        fleet.send(TID, junk)
    fleet.ack(acked=42)
    wait_for(lambda: agent.mark() == 42, "the valid Ack taken")
    assert agent.thread.is_alive()
    assert caplog.text.count("ignored a malformed acknowledgement") == 8
    fleet.ack(acked=head + 1000)  # past the journal's head: taken as the head
    wait_for(lambda: agent.mark() == head, "the mark at the head")
    # ... and the fleet admin is told: this journal ends before what the fleet holds
    truncated = wait_for(
        lambda: [e for e in fleet.events if e.kind == "journal_truncated"], "the event"
    )
    assert truncated[0].seq == head + 1000 and f"ends at seq {head}" in truncated[0].detail
    fleet.ack(acked=10)  # an old Ack: the mark never goes down
    time.sleep(0.2)
    assert agent.mark() == head
    agent.stop()


def test_entries_unacknowledged_for_ack_timeout_are_sent_again(made, broker, running):
    terminal = made(batch_size=100, ack_timeout_seconds=0.5)
    head = append(terminal, 80)
    fleet = FakeFleet(broker, auto_ack=False)
    agent = running(terminal.pos.settings)
    wait_for(lambda: fleet.sent_seqs().count(1) >= 2, "the batch sent again", deadline=5)
    fleet.ack(acked=head)
    wait_for(lambda: agent.mark() == head, "the mark at the head")
    agent.stop()


def test_the_broker_stopped_and_started_mid_drain_loses_nothing(made, broker, running):
    terminal = made(batch_size=100, max_in_flight=300)
    head = append(terminal, 3000)
    fleet = FakeFleet(broker, hold=1000)  # the drain held at 1000, 300 more out
    agent = running(terminal.pos.settings)
    wait_for(lambda: agent.mark() == 1000, "a part acknowledged")
    wait_for(lambda: len(fleet.sent_seqs()) >= 1300, "300 more out")
    fleet.close()
    broker.stop()
    fleet.hold = None
    wait_for(lambda: not outbox.link(agent.db).connected, "the agent sees the link gone")
    broker.start()
    fleet.connect()
    wait_for(lambda: agent.mark() == head, "the mark at the head after the broker's return")
    assert set(fleet.entries) == set(range(1, head + 1))  # everything arrived
    assert outbox.link(agent.db).connected
    states = [s for s in fleet.all_states() if s.status == "online"]
    assert len({s.birth for s in states}) >= 2  # a new birth for the new connection
    agent.stop()


# -- presence ------------------------------------------------------------------------------------
def test_online_retained_with_its_birth_and_offline_at_a_clean_stop(made, broker, running):
    terminal = made()
    fleet = FakeFleet(broker)
    agent = running(terminal.pos.settings, software="pos-terminal test")
    wait_for(lambda: outbox.link(agent.db).connected, "connected")
    state = retained_state(broker)
    assert (state.status, state.birth, state.software) == ("online", 1, "pos-terminal test")
    assert state.config_version == 1  # the shop configuration in force
    assert agent_running(agent_dir(terminal.pos.settings.data_dir))
    agent.stop()
    assert not agent_running(agent_dir(terminal.pos.settings.data_dir))
    assert retained_state(broker) == fp.State(
        "offline", 1, "pos-terminal test", None, retained_state(broker).ts
    )
    assert not outbox.link(terminal.pos.db).connected
    again = running(terminal.pos.settings)
    wait_for(lambda: outbox.link(again.db).connected, "connected again")
    assert retained_state(broker).birth == 2
    # a shop configuration applied: the presence says its version once its entry is sent
    terminal.pos.apply_shop_config(terminal.pos.settings.shop_document, "test")
    wait_for(lambda: retained_state(broker).config_version == 2, "the new version shown")
    again.stop()
    fleet.close()


# -- device health, lockouts and fraud signals ---------------------------------------------------
def test_device_health_and_lockouts_reach_the_fleet_as_events(made, broker, running):
    terminal = made()
    pos = terminal.pos
    fleet = FakeFleet(broker)
    agent = running(pos.settings)
    pos.printer.paper_out = True
    terminal.watch.check()
    wait_for(lambda: fleet.events, "the paper-out event")
    (event,) = fleet.events
    assert (event.kind, event.device, event.detail) == ("paper_out", "printer", "paper-out")
    pos.printer.paper_out = False
    terminal.watch.check()
    wait_for(lambda: len(fleet.events) == 2, "the printer back")
    assert (fleet.events[1].kind, fleet.events[1].device) == ("device_ok", "printer")
    wait_for(lambda: outbox.events_sent(pos.db) == 2, "both recorded as sent")
    for _ in range(pos.settings.security.lockout.max_failures):
        with pytest.raises(Exception, match="Wrong cashier number or PIN"):
            pos.sign_in("1", "0000")
    (lockout,) = [e for e in read_entries(pos.db, types=("lockout",))]
    wait_for(lambda: any(e.kind == "lockout" for e in fleet.events), "the lockout event")
    (note,) = [e for e in fleet.events if e.kind == "lockout"]
    assert (note.seq, note.detail) == (lockout["seq"], "cashier:1")
    agent.stop()


def test_health_is_written_for_the_agent_only_when_the_fleet_is_on(closed_terminal):
    pos = closed_terminal.pos
    pos.printer.paper_out = True
    closed_terminal.watch.check()
    assert outbox.device_events_after(pos.db, 0) == []  # [fleet] enabled = false


# -- reconnecting --------------------------------------------------------------------------------
def test_backoff_is_full_jitter_within_its_bounds():
    asked: list[tuple[float, float]] = []

    def draw(low, high):
        asked.append((low, high))
        return high * 0.5

    backoff = Backoff(0.5, 10.0, draw)
    delays = [backoff.next_delay() for _ in range(8)]
    assert [high for _low, high in asked] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert all(low == 0.0 for low, _high in asked)
    assert delays == [high * 0.5 for _low, high in asked]
    backoff.reset()
    assert backoff.next_delay() == 0.25 and asked[-1] == (0.0, 0.5)
    for _ in range(5000):  # never overflows, never past the cap
        backoff.next_delay()
    assert backoff.ceiling() == 10.0
    wild = Backoff(1.0, 4.0, lambda low, high: high * 3)  # a draw out of range is held in
    assert wild.next_delay() == 1.0
    real = Backoff(1.0, 8.0)
    for attempt in range(10):
        high = real.ceiling()
        assert 0.0 <= real.next_delay() <= high == min(8.0, 2.0**attempt)
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def test_send_now_connects_at_once_without_the_backoff_wait(made, broker, running):
    terminal = made(backoff_base_seconds=60.0, backoff_cap_seconds=600.0)
    head = append(terminal, 20)
    broker.stop()
    agent = running(terminal.pos.settings, random=lambda low, high: high)  # the longest wait
    wait_for(lambda: agent.agent.links >= 1, "a first attempt")
    time.sleep(0.2)
    assert agent.agent.link is None and agent.agent.reconnect_at - time.monotonic() > 50
    broker.start()
    fleet = FakeFleet(broker)
    status = terminal.pos.fleet.send_now()
    assert (status.enabled, status.running, status.connected) == (True, True, False)
    assert status.unsent == head
    asked = time.monotonic()
    wait_for(lambda: agent.mark() == head, "everything acknowledged", deadline=10)
    assert time.monotonic() - asked < 5
    assert terminal.pos.fleet.status() == type(status)(True, True, True, 0)
    assert not (agent_dir(terminal.pos.settings.data_dir) / "send-now").exists()
    fleet.close()
    agent.stop()


def test_send_now_while_connected_sends_the_unacknowledged_again(made, broker, running):
    terminal = made(batch_size=100)
    append(terminal, 30)
    fleet = FakeFleet(broker, auto_ack=False)
    agent = running(terminal.pos.settings)
    wait_for(lambda: fleet.sent_seqs(), "the first batch")
    terminal.pos.fleet.send_now()
    wait_for(lambda: fleet.sent_seqs().count(1) == 2, "sent again at once", deadline=3)
    agent.stop()


# -- the process's rules -------------------------------------------------------------------------
def test_off_it_does_nothing_and_a_foreign_certificate_is_refused(settings, broker, tmp_path):
    assert run_agent(settings) == 0  # [fleet] enabled = false: nothing to do, no broker
    cafile, certfile, keyfile = broker.credentials("T02")
    other = dataclasses.replace(
        settings,
        fleet=FleetSettings(enabled=True, ca_file=cafile, cert_file=certfile, key_file=keyfile),
    )
    with pytest.raises(
        ConfigError, match=r"fleet\.cert_file: the certificate is made out to 'T02'"
    ):
        check_credentials(other)
    missing = dataclasses.replace(
        settings, fleet=dataclasses.replace(other.fleet, key_file=tmp_path / "nope.key")
    )
    with pytest.raises(ConfigError, match=r"fleet\.key_file: no such file"):
        check_credentials(missing)


def test_one_agent_per_terminal_and_it_waits_for_the_terminals_database(settings, broker):
    fleet = with_fleet(settings, broker)
    stopping = threading.Event()
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(rc=run_agent(fleet, stopping)))
    thread.start()  # no terminal yet: it waits (and makes no database)
    wait_for(lambda: agent_running(agent_dir(fleet.data_dir)), "the agent's lock")
    assert not fleet.database_path.exists()
    assert run_agent(fleet, threading.Event()) == 3  # a second one refuses
    stopping.set()
    thread.join(10)
    assert result == {"rc": 0} and not fleet.database_path.exists()


def test_a_database_put_in_place_by_a_restore_makes_it_start_again(made, broker):
    import shutil  # noqa: PLC0415

    from terminal.fleet.agent import EXIT_REPLACED  # noqa: PLC0415

    terminal = made()
    settings = terminal.pos.settings
    fleet = FakeFleet(broker)
    stopping = threading.Event()
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(rc=run_agent(settings, stopping)))
    thread.start()
    wait_for(lambda: fleet.all_states(), "connected")
    path = settings.database_path
    copy = path.with_name("restored.db")
    shutil.copyfile(path, copy)
    copy.replace(path)  # another file under the same name, as a restore leaves it
    thread.join(10)
    assert result == {"rc": EXIT_REPLACED}  # (systemd starts it again, on the new file)
    stopping.set()
    fleet.close()
