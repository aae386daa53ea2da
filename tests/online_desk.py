"""The fleet's online-order desk in the test's own process: a SQLite fleet database, the
real :class:`~fleet.orders.service.OrderDesk`, and a client that hands the terminal's
calls to it as the order service does with the broker's messages (encoded and decoded
by the protocol, a refusal raised as the terminal's client raises it). For the screens'
tests, where a broker adds nothing; the MQTT path has its own tests
(``tests/fleet/test_orders_mqtt.py``, ``tests/fleet/test_online_orders_e2e.py``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from random import Random

from fleet.db import connect, create_tables
from fleet.orders.service import OrderDesk
from fleet.registry import register_terminal
from terminal.core import fleet_protocol as fp
from terminal.core.errors import N_
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from terminal.fleet.orders_client import OrdersRefused, OrdersUnavailable

STORE = "Toko Demo Sejahtera"


class LocalOrdersClient:
    """``down``: the fleet does not answer (OrdersUnavailable), as a broker that is gone;
    ``lose_answers``: so many calls are done at the fleet and their answers lost."""

    def __init__(self, desk: OrderDesk, terminal_id: str) -> None:
        self.desk, self.terminal_id = desk, terminal_id
        self.down = False
        self.lose_answers = 0
        self.calls: list[tuple[str, str]] = []  # (op, call id)

    def call(self, request: fp.OrderRequest, call_id: str = "") -> fp.OrderReply:
        self.calls.append((request.op, call_id))
        if self.down:
            raise OrdersUnavailable()
        sent = fp.decode("up/orders", fp.encode(request))
        reply = fp.decode(
            "down/orders", fp.encode(self.desk.handle(self.terminal_id, sent, call_id))
        )
        if self.lose_answers:
            self.lose_answers -= 1
            raise OrdersUnavailable()
        if not reply.ok:
            raise OrdersRefused(reply.error or N_("The fleet refused"), **reply.params)
        return reply

    def close(self) -> None:
        pass


def local_desk(directory: Path, clock, public_key_pem: str, terminal_id: str = "T01"):
    """A fleet database with ``terminal_id`` registered in the demo store, and its desk."""
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db,
        terminal_id,
        store=STORE,
        group="g",
        timezone="Asia/Jakarta",
        public_key_pem=public_key_pem,
    )
    desk = OrderDesk(
        db, Sealer(os.urandom(32)), deadline=DeadlineRule.parse("17:00"), clock=clock, rng=Random(5)
    )
    return db, desk


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
