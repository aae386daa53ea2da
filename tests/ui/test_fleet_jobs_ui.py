"""Jobs from the fleet in the real window: a message to the cashier shows on the sale
screen's message line; a lock says so there, and the next scan is refused with the
reason (the agent's side is in tests/fleet/test_jobs.py: here the job is put in the
table as the agent does)."""

from __future__ import annotations

import pytest

from terminal.store import fleet_jobs
from tests.ui.test_cash_sale_ui import TEA, sign_in

pytestmark = pytest.mark.ui


def handed(pos, job_id: str, kind: str, text: str = "") -> None:
    """A job the agent handed to the app, then the app's 1-second poll (forced: written on
    the app's own connection, which PRAGMA data_version does not count)."""
    fleet_jobs.add_job(pos.db, job_id, kind, text, pos.clock(), app=True, state="new")
    pos.fleet_jobs.poll(force=True)


def test_a_message_and_a_lock_show_on_the_sale_screen(app, terminal):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    sale = root.get_screen("sale")
    handed(pos, "m-1", "message", "Delivery at 15:00")
    ui.wait_until(
        lambda: sale.ids.message.text == "Message from the fleet: Delivery at 15:00", "message"
    )
    handed(pos, "l-1", "lock", "stock count")
    ui.wait_until(lambda: sale.ids.message.text == "Locked by the fleet: stock count", "lock")
    assert sale.message_is_error
    ui.scan(TEA)
    assert sale.ids.message.text == "Locked by the fleet: stock count"
    assert pos.cart.is_empty
    handed(pos, "u-1", "unlock")
    ui.wait_until(lambda: sale.ids.message.text == "Unlocked by the fleet", "unlock")
    ui.scan(TEA)
    assert len(pos.cart.lines) == 1
