"""``pos-terminal agent --config FILE`` as it runs on a terminal: its own process beside
the app, the shipped configuration with its ``[fleet]`` section filled in, the database
made by the terminal's own code. Killed (SIGKILL) in the middle of a drain of 2,000
entries, its Last Will says offline with the birth it connected with; started again, it
goes on from its mark and the fleet ends up holding every entry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from terminal.config import load_settings
from terminal.core import fleet_protocol as fp
from terminal.services.bootstrap import build_terminal
from terminal.store import outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import CONFIG, ROOT
from tests.fleet.test_agent import TID, FakeFleet, append, broker, retained_state, wait_for

__all__ = ["broker"]  # (the fixture, shared with the thread tests)


def config_file(tmp_path, broker) -> object:
    """The shipped configuration, data in ``tmp_path``, its [fleet] section switched on
    and pointed at the test broker with this terminal's certificate."""
    cafile, certfile, keyfile = broker.credentials(TID)
    text = CONFIG.read_text()
    for old, new in (
        ('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"'),
        ("[fleet]\nenabled = false", "[fleet]\nenabled = true"),
        ('host = "localhost"', f'host = "{broker.host}"'),
        ("port = 8883", f"port = {broker.port}"),
        ('ca_file = ""', f'ca_file = "{cafile}"'),
        ('cert_file = ""', f'cert_file = "{certfile}"'),
        ('key_file = ""', f'key_file = "{keyfile}"'),
        ("batch_size = 200", "batch_size = 100"),
        ("max_in_flight = 2000", "max_in_flight = 300"),
        ("backoff_base_seconds = 1.0", "backoff_base_seconds = 0.05"),
        ("backoff_cap_seconds = 60.0", "backoff_cap_seconds = 0.5"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "pos.toml"
    path.write_text(text)
    return path


def start_agent(config) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "terminal", "agent", "--config", str(config)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def index_of(log, kind, test, start=0) -> int:
    for i in range(start, len(log)):
        if log[i][0] == kind and test(log[i][1]):
            return i
    raise AssertionError(f"no {kind} after {start}")


def test_killed_mid_drain_it_goes_on_from_its_mark_and_its_will_says_offline(tmp_path, broker):
    config = config_file(tmp_path, broker)
    settings = load_settings(config)
    terminal = build_terminal(settings, pin_params=FAST_TEST_PARAMS)  # the app, running
    db = terminal.pos.db
    head = append(terminal, 2000)
    fleet = FakeFleet(broker, hold=500)  # the drain held at 500, 300 more out
    agent = start_agent(config)
    try:
        wait_for(lambda: outbox.mark(db) == 500, "a part of the drain acknowledged")
        wait_for(lambda: len(fleet.sent_seqs()) >= 800, "300 more out")
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
        killed_at = outbox.mark(db)
        assert killed_at == 500
        fleet.hold = None
        # the broker saw the connection die: the Will, offline, with the birth it had
        wait_for(lambda: any(s.status == "offline" for s in fleet.all_states()), "the Last Will")
        online, offline = fleet.all_states()[:2]
        assert (online.status, online.birth) == ("online", 1)
        assert (offline.status, offline.birth) == ("offline", 1)
        assert retained_state(broker).status == "offline"
        assert outbox.link(db).connected  # as the killed agent left it: the lock tells
        assert terminal.pos.fleet.status().running is False
        assert outbox.mark(db) == killed_at  # nothing moves the mark but an agent

        head = append(terminal, 100)  # the app sells on meanwhile
        agent = start_agent(config)
        wait_for(lambda: outbox.mark(db) == head, "the mark at the head", deadline=60)
        assert set(fleet.entries) == set(range(1, head + 1))  # none lost
        with fleet.lock:
            log = list(fleet.log)
        born = index_of(log, "state", lambda s: s.status == "online" and s.birth == 2)
        first = index_of(log, "up/journal", lambda b: True, born)
        assert log[first][1].entries[0].seq == killed_at + 1  # from its mark on
        status = terminal.pos.fleet.status()
        assert (status.running, status.connected, status.unsent) == (True, True, 0)

        agent.send_signal(signal.SIGTERM)  # a clean stop says offline itself
        assert agent.wait(15) == 0
        assert retained_state(broker) == fp.State(
            "offline", 2, online.software, None, retained_state(broker).ts
        )
        logged = (tmp_path / "var" / "logs" / "agent.log").read_text()
        assert "connected to the fleet broker" in logged
        assert "the fleet holds the journal up to seq" in logged
        assert '"reason"' not in logged  # no entry's payload in the log
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
        fleet.close()
        terminal.devices.close()


def test_a_configuration_mistake_stops_it_with_the_key_named(tmp_path, broker):
    config = config_file(tmp_path, broker)
    config.write_text(config.read_text().replace("batch_size = 100", "batch_size = 0"))
    agent = start_agent(config)
    _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 2
    assert "fleet.batch_size: must be from 1 to 1000" in err
    started = time.monotonic()
    config.write_text(config.read_text().replace("batch_size = 0", "batch_size = 100"))
    cert = next(line for line in config.read_text().splitlines() if line.startswith("cert_file"))
    _ca, other_cert, _key = broker.credentials("T02")
    config.write_text(config.read_text().replace(cert, f'cert_file = "{other_cert}"'))
    agent = start_agent(config)
    _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 2 and "fleet.cert_file: the certificate is made out to" in err
    assert time.monotonic() - started < 30
