"""The app's side of the fleet link: the status a menu shows (unsent entries, whether the
agent runs and is connected), Send now as a file the agent watches, and the devices'
health changes written down for the agent - only while the fleet is on."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from terminal.config import FleetSettings
from terminal.fleet.agent import AgentLock
from terminal.services.bootstrap import build_terminal
from terminal.services.fleet_link import SEND_NOW, FleetStatus, agent_dir, agent_running
from terminal.store import outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import with_open_shift

FLEET_ON = FleetSettings(
    enabled=True, ca_file=Path("ca.crt"), cert_file=Path("t.crt"), key_file=Path("t.key")
)


@pytest.fixture
def fleet_terminal(settings, clock):
    on = dataclasses.replace(settings, fleet=FLEET_ON)
    return with_open_shift(build_terminal(on, clock=clock, pin_params=FAST_TEST_PARAMS))


@pytest.fixture
def lock(fleet_terminal):
    """An agent's lock held, as a running agent holds it."""
    held = AgentLock(agent_dir(fleet_terminal.pos.settings.data_dir))
    assert held.acquire(wait=0)
    yield held
    held.release()


def test_with_the_fleet_off_nothing_is_asked(terminal, caplog):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    unsent = outbox.unsent(pos.db)
    assert unsent > 0
    with caplog.at_level(logging.INFO, "terminal.actions"):
        assert pos.fleet.send_now() == FleetStatus(False, False, False, unsent)
    assert not (agent_dir(pos.settings.data_dir) / SEND_NOW).exists()
    (line,) = [r.getMessage() for r in caplog.records if "send_now" in r.getMessage()]
    assert line == (
        f"send now asked, {unsent} unsent | action=send_now cashier=1 unsent={unsent} agent=off"
    )


def test_with_no_agent_running_nothing_is_asked(fleet_terminal):
    pos = fleet_terminal.pos
    status = pos.fleet.send_now()
    assert (status.enabled, status.running, status.connected) == (True, False, False)
    assert not (agent_dir(pos.settings.data_dir) / SEND_NOW).exists()


def test_a_running_agent_is_asked_through_its_file(fleet_terminal, lock):
    pos = fleet_terminal.pos
    directory = agent_dir(pos.settings.data_dir)
    assert agent_running(directory)
    status = pos.fleet.send_now()
    assert status == FleetStatus(True, True, False, outbox.unsent(pos.db))
    assert (directory / SEND_NOW).exists()
    outbox.set_link(pos.db, True, pos.clock())
    outbox.set_mark(pos.db, outbox.head_seq(pos.db))
    assert pos.fleet.status() == FleetStatus(True, True, True, 0)
    lock.release()  # the agent gone (killed: the kernel drops its lock)
    assert pos.fleet.status() == FleetStatus(True, False, False, 0)  # its link state aside


def test_health_changes_are_written_down_for_the_agent(fleet_terminal):
    pos = fleet_terminal.pos
    watch = fleet_terminal.watch
    watch.check()
    assert outbox.device_events_after(pos.db, 0) == []  # all well: nothing to say
    pos.printer.paper_out = True
    watch.check()
    watch.check(force=True)  # read again, the same: nothing new
    pos.printer.paper_out = False
    watch.check()
    events = outbox.device_events_after(pos.db, 0)
    assert [(e.name, e.cleared) for e in events] == [("paper-out", False), ("paper-out", True)]
    pos.events.publish("health_changed", events=["card-offline", "scanner-missing"])
    pos.events.publish("health_changed", events=["scanner-missing"])
    events = outbox.device_events_after(pos.db, events[-1].id)
    assert [(e.name, e.cleared) for e in events] == [
        ("card-offline", False),
        ("scanner-missing", False),
        ("card-offline", True),
    ]
