"""`make run STORE=online` on a machine with no display: the script the Makefile calls,
for real (Mosquitto, `pos-fleet serve` with online orders, the courier's simulator, the
console, the CS desk's agent and app under Xvfb). Its scripted tour checks stock and books
an item; the booking is then in the fleet's database, its slip on the desk's printer,
and the demo's bank statement pays it."""

from __future__ import annotations

import os
import subprocess
import sys

from fleet.db import connect
from fleet.models import Booking, DropOrder
from fleet.orders.bank_formats import read_statement
from tests.conftest import ROOT
from tests.mosquitto import free_port

RUN_DEBS = ["xvfb", "xauth", "libgl1-mesa-dri", "libmtdev1"]


def test_the_online_shop_runs_without_a_display_and_books_at_the_desk(tmp_path):
    here = tmp_path / "online"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        ONLINE_DIR=str(here),
        ONLINE_BROKER_PORT=str(free_port()),
        ONLINE_CONSOLE_PORT=str(free_port()),
        ONLINE_COURIER_PORT=str(free_port()),
    )
    done = subprocess.run(
        ["scripts/run-online-shop.sh", sys.executable, *RUN_DEBS],
        cwd=ROOT,
        env=env,
        input="a demo password 2026\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "3 drop orders waiting for the warehouse" in done.stdout
    assert "account gudang added: warehouse" in done.stdout
    shots = sorted(p.name for p in (here / "T21" / "data" / "screenshots").glob("*.png"))
    assert shots == [
        "online-1-menu.png",
        "online-2-stock.png",
        "online-3-confirm.png",
        "online-4-booked.png",
    ]
    db = connect(f"sqlite:///{here / 'fleet.db'}")
    (booking,) = Booking.select().bind(db)
    assert (booking.desk, booking.sku, booking.state) == ("Toko Demo Sejahtera", "TEH-BTL", "open")
    assert DropOrder.select().where(DropOrder.state == "requested").bind(db).count() == 3
    # every process stopped with the script: nothing listens on the demo's broker any more
    left = subprocess.run(["pgrep", "-f", str(here)], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    # the demo's bank pays the booking (what finance uploads on the payments page)
    statement = here / "statement.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fleet.cli",
            "orders",
            "statement",
            "--out",
            str(statement),
            "--config",
            str(here / "fleet.toml"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    lines = read_statement(statement.read_bytes(), "bca", None, "statement.csv")
    assert booking.due in [line.amount for line in lines]
