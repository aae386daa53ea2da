"""Send now, in the real window: the shift menu (F8) shows how many journal entries the
fleet has not confirmed and asks the fleet agent - another process's work, here the real
agent on a thread of its own with its own database connection - to send at once; a
disconnected agent connects at once instead of waiting out its backoff. With no fleet
set up, or no agent running, the item says so."""

from __future__ import annotations

import time

import pytest

from terminal.store import outbox
from tests.fleet.test_agent import FakeFleet, append, wait_for, with_fleet
from tests.mosquitto import start_broker
from tests.ui.test_cash_sale_ui import sign_in
from tests.ui.test_operations_ui import panel, shots

__all__ = ["shots"]  # (the fixture: screenshots kept where POS_SHOTS says)

pytestmark = pytest.mark.ui


def shown(button) -> list[str]:
    """An option's number and its text."""
    return button.text.split(None, 1)


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker")
    yield broker
    broker.kill()


@pytest.fixture
def fleet_on():
    return True


@pytest.fixture
def settings(settings, fleet_on, request):
    """The shipped settings with [fleet] on and pointed at the test broker; the agent's
    backoff long, so only Send now makes it connect soon."""
    if not fleet_on:
        return settings
    return with_fleet(
        settings,
        request.getfixturevalue("broker"),
        backoff_base_seconds=60.0,
        backoff_cap_seconds=600.0,
    )


@pytest.fixture
def agent(settings):
    from tests.fleet.test_agent import AgentThread  # noqa: PLC0415

    started = []

    def start():
        started.append(AgentThread(settings, random=lambda low, high: high))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def test_send_now_shows_the_unsent_and_connects_at_once(app, terminal, broker, agent, shots):
    root, ui = app
    pos = terminal.pos
    head = append(terminal, 40)
    broker.stop()
    running = agent()
    wait_for(lambda: running.agent.links >= 1, "the agent's first attempt (refused)")
    assert running.agent.reconnect_at - time.monotonic() > 50  # a long wait ahead
    sign_in(root, ui)
    broker.start()
    fleet = FakeFleet(broker)
    unsent = outbox.unsent(pos.db)
    assert unsent == head
    ui.key("f8")
    menu = panel(root)
    button = menu.option_buttons["send_now"]
    assert shown(button) == ["6", f"Send now ({unsent} unsent)"]  # the last option
    ui.screenshot(shots / "send-now-1-menu.png")
    ui.tap(button)
    sale = root.get_screen("sale")
    assert sale.message == f"Connecting to the fleet now to send {unsent} entries"
    assert not sale.message_is_error
    ui.screenshot(shots / "send-now-2-asked.png")
    wait_for(lambda: outbox.mark(pos.db) == head, "everything acknowledged", deadline=10)
    assert set(fleet.entries) >= set(range(1, head + 1))
    ui.key("f8")
    assert shown(panel(root).option_buttons["send_now"]) == ["6", "Send now (all sent)"]
    ui.type("6")
    assert sale.message == "Everything is at the fleet already"
    fleet.close()


def test_without_the_agent_the_item_says_so(app, terminal):
    root, ui = app
    sign_in(root, ui)
    unsent = outbox.unsent(terminal.pos.db)
    ui.key("f8")
    button = panel(root).option_buttons["send_now"]
    assert shown(button) == ["6", "Send now: the fleet agent is not running"]
    ui.tap(button)
    sale = root.get_screen("sale")
    assert sale.message == (
        f"The fleet agent is not running: {unsent} entries wait. Call the technician"
    )
    assert sale.message_is_error


@pytest.mark.parametrize("fleet_on", [False])
def test_with_no_fleet_set_up_the_item_says_so(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f8")
    assert shown(panel(root).option_buttons["send_now"]) == ["6", "Send now: no fleet set up"]
    ui.type("6")
    sale = root.get_screen("sale")
    assert sale.message == (
        "This terminal sends nothing to a fleet: the fleet is off in its settings"
    )
    assert sale.message_is_error


def test_what_send_now_says_while_the_agent_is_connected(terminal):
    """The flow with a scripted cashier (no window): the agent's lock held and its link
    up, as a connected agent leaves them."""
    from terminal.fleet.agent import AgentLock  # noqa: PLC0415
    from terminal.services.fleet_link import agent_dir  # noqa: PLC0415
    from terminal.ui.shift_menu import ShiftMenu  # noqa: PLC0415
    from tests.ui.test_menu_flows import ScriptedAsker  # noqa: PLC0415

    pos = terminal.pos
    lock = AgentLock(agent_dir(pos.settings.data_dir))
    assert lock.acquire(wait=0)
    try:
        outbox.set_link(pos.db, True, pos.clock())
        head = append(terminal, 5)
        said = []
        for mark in (head - 3, head - 1, head):
            outbox.set_mark(pos.db, mark)
            ask = ScriptedAsker(pos, "send_now")
            ShiftMenu(pos, ask).open()
            said.append((dict(ask.asked[0].options)["send_now"], ask.said))
        assert said == [
            ("Send now (3 unsent)", [("Sending 3 entries now", False)]),
            ("Send now (1 unsent)", [("Sending 1 entry now", False)]),
            ("Send now (all sent)", [("Everything is at the fleet already", False)]),
        ]
    finally:
        lock.release()
