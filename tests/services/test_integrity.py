"""The full integrity check runs off the start path: a terminal starts in the same time
whatever its age, and a damaged page found later stops the selling."""

from __future__ import annotations

import pytest

from terminal.core.errors import PosError
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS


def sell(pos, n=1):
    if pos.cashier is None:
        pos.sign_in("1", "1357")
    for _ in range(n):
        pos.scan("GULA-1KG")
        pos.pay_cash(20000)


def test_a_damaged_page_found_after_the_start_stops_the_selling(terminal, settings, clock):
    sell(terminal.pos, 30)
    terminal.stop()
    db = terminal.pos.db
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    # a page of the sales' tax rows: nothing the start reads
    (root,) = db.execute_sql(
        "SELECT rootpage FROM sqlite_master WHERE name = 'sale_tax'"
    ).fetchone()
    db.close()
    data = bytearray(settings.database_path.read_bytes())
    page = 4096 * (root - 1)
    data[page + 100 : page + 200] = bytes(100)
    settings.database_path.write_bytes(bytes(data))

    again = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)  # starts
    seen = []
    again.pos.events.subscribe(lambda e: seen.append(e.data["reason"]), {"database_damaged"})
    reason = again.integrity.check()
    assert reason and "damaged" in reason and "pos-terminal restore" in reason
    assert seen == [reason] and again.pos.damaged == reason
    again.pos.sign_in("1", "1357")
    again.pos.scan("TEH-BTL")
    with pytest.raises(PosError, match=r"database is damaged\. Take no money"):
        again.pos.pay_cash(10000)


def test_a_sound_database_passes_in_the_background(terminal):
    sell(terminal.pos, 3)
    terminal.integrity.start()
    try:
        assert terminal.integrity.checked.wait(30)
    finally:
        terminal.integrity.stop()
    assert terminal.pos.damaged is None
    sell(terminal.pos, 1)  # still selling
