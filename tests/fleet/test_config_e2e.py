"""A price pushed by an admin reaches a real terminal: `pos-fleet config push` and
`pos-fleet serve` as processes, the terminal's agent as a process, the terminal's own
services applying what the agent verified, a real Mosquitto with mutual TLS. The sale
open during the push keeps its price; the next sale has the new one; the fleet shows the
version each terminal runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fleet import signing
from terminal.config import SHOP_SECTIONS
from terminal.store import fleet_config
from tests.conftest import CONFIG, ROOT
from tests.fleet_world import World, fleet_toml, wait_for
from tests.mosquitto import start_broker

TEH = "8991002101111"  # Teh Botol Sosro, Rp 5.500 in the demo shop


def shop_sections_toml() -> str:
    """The shop's sections of the shipped pos.toml, as a fleet-wide document."""
    kept, keep = [], False
    for line in CONFIG.read_text().splitlines():
        if line.startswith("["):
            keep = line.strip("[]").split(".")[0] in SHOP_SECTIONS
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n"


TEH_6000 = """
[[products]]
sku = "TEH-BTL"
name = "Teh Botol Sosro 450 ml"
price = 6000
tax_class = "PPN"
barcodes = ["8991002101111"]
"""


PPN_12 = """
[taxes.PPN]
name = "PPN 12%"
rates = [{ code = "PPN", name = "PPN", rate = "12" }]
"""


@pytest.fixture
def world(tmp_path):
    broker = start_broker(tmp_path / "broker")
    world = World(tmp_path, broker, f"sqlite:///{tmp_path / 'fleet.db'}")
    root, world.signing = tmp_path / "root", tmp_path / "signing"
    signing.init(root, world.signing, datetime.now(UTC) - timedelta(minutes=1))
    world.root_public = root / signing.ROOT_PUBLIC
    yield world
    world.close()
    broker.stop()


def push(world, *args: str) -> subprocess.Popen:
    config = fleet_toml(
        world.tmp / "push.toml",
        db_url=world.db_url,
        broker=world.broker,
        client_id="push",
        signing=world.signing,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "config", "push", *args, "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def applied(shop) -> dict:
    return fleet_config.state(shop.pos.db).applied


def pushed_and_applied(process, shop, what: str) -> str:
    """Polls the terminal's side (as the app's clock does) until the push ends."""
    wait_for(lambda: shop.pos.fleet_config.poll() or process.poll() is not None, what)
    out = process.communicate(timeout=30)[0]
    assert process.returncode == 0, out
    return out


def test_a_price_and_a_tax_rate_pushed_to_a_group_apply_to_the_next_sale_not_the_open_one(world):
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml())
    out = pushed_and_applied(
        push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "the fleet's"
    )
    assert "fleet" in str(applied(shop)), out

    pos = shop.pos
    pos.scan(TEH)  # a sale open during the push
    group_doc = world.tmp / "north.toml"
    group_doc.write_text(TEH_6000 + PPN_12)
    process = push(world, "--group", "north", str(group_doc), "--wait", "30")
    wait_for(
        lambda: pos.fleet_config.poll() or pos.pending_config is not None,
        "the configuration held for the open sale",
    )
    assert pos.cart.lines[0].amount == 5500  # the open sale keeps its price and tax
    paid = pos.pay_cash(10000).committed.sale
    assert (paid.total, paid.taxes.tax) == (5500, 545)  # 5,500 - round(5,500 / 1.11)
    pushed_and_applied(process, shop, "the group's, once the sale ended")
    pos.scan(TEH)
    assert pos.cart.lines[0].amount == 6000
    assert pos.cart.lines[0].quantity == Decimal(1)
    paid = pos.pay_cash(10000).committed.sale
    assert (paid.total, paid.taxes.tax) == (6000, 643)  # 6,000 - round(6,000 / 1.12)

    status = world.fleet("config", "status", "--group", "north")
    assert status.returncode == 0, status.stderr
    (row,) = [line for line in status.stdout.splitlines() if "T01" in line]
    assert "applied" in row and "group:north" in row
    terminals = world.fleet("terminals")
    (row,) = [line for line in terminals.stdout.splitlines() if "T01" in line]
    assert "fleet 1, group:north 1" in row  # what the terminal reported applied


def test_a_price_list_from_a_spreadsheet_is_pushed_whole_or_not_at_all(world):
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml())
    pushed_and_applied(push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "")

    broken = world.tmp / "broken.csv"
    broken.write_text(
        "sku;name;price;tax_class;barcodes\n"
        "TEH-BTL;Teh Botol Sosro 450 ml;6.500;PPN;8991002101111\n"
        "KOPI;Kopi;1.5;PPN;\n"  # a slip: no rupiah amount
        "GULA;Gula;15.000;VAT;\n"  # not one of the shop's taxes
    )
    refused = push(world, "--group", "north", str(broken))
    out = refused.communicate(timeout=60)[0]
    assert refused.returncode == 1
    assert "line 3, price: '1.5' is not an amount in IDR" in out
    assert "line 4, tax_class: 'VAT' is not a tax class here" in out
    assert "nothing sent" in out

    prices = world.tmp / "prices.csv"
    prices.write_text(
        "sku;name;price;tax_class;barcodes\n"
        "TEH-BTL;Teh Botol Sosro 450 ml;6.500;PPN;8991002101111\n"
    )
    out = pushed_and_applied(
        push(world, "--group", "north", str(prices), "--wait", "30"), shop, "the price list"
    )
    assert "1 products from prices.csv" in out, out
    shop.pos.scan(TEH)
    assert shop.pos.cart.lines[0].amount == 6500, (out, applied(shop))


def edit(world, editor: str, *args: str) -> subprocess.Popen:
    """``pos-fleet config edit`` with ``editor`` standing for the admin's editor."""
    config = fleet_toml(
        world.tmp / "edit.toml",
        db_url=world.db_url,
        broker=world.broker,
        client_id="edit",
        signing=world.signing,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "config", "edit", *args, "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "EDITOR": editor, "VISUAL": ""},
    )


def test_config_edit_shows_the_difference_and_pushes_the_edit(world):
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml())
    pushed_and_applied(push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "")
    group_doc = world.tmp / "north.toml"
    group_doc.write_text(TEH_6000)
    pushed_and_applied(push(world, "--group", "north", str(group_doc), "--wait", "30"), shop, "")

    unchanged = edit(world, "true", "--group", "north", "--yes")
    out = unchanged.communicate(timeout=60)[0]
    assert unchanged.returncode == 0 and "group:north: no change; nothing pushed" in out, out

    broken = edit(world, "sed -i s/6000/6.000,-/", "--group", "north", "--yes")  # not TOML
    out = broken.communicate(timeout=60)[0]
    assert broken.returncode == 1, out
    assert "your edit is kept in" in out and "nothing sent" in out, out
    kept = Path(out.split("your edit is kept in")[1].split()[0].rstrip(":"))
    assert "price = 6.000,-" in kept.read_text()
    shutil.rmtree(kept.parent)

    # without --yes and without a terminal to ask on, nothing is pushed
    unsure = edit(world, "sed -i s/6000/6500/", "--group", "north")
    out = unsure.communicate(timeout=60)[0]
    assert "+price = 6500" in out and "not confirmed" in out, out
    shutil.rmtree(Path(out.split("kept in")[1].split()[0]).parent)

    process = edit(world, "sed -i s/6000/6500/", "--group", "north", "--yes", "--wait", "30")
    out = pushed_and_applied(process, shop, "the edit")
    assert "-price = 6000" in out and "+price = 6500" in out, out
    assert "group:north version 2 (edited) signed" in out, out
    shop.pos.scan(TEH)
    assert shop.pos.cart.lines[0].amount == 6500
