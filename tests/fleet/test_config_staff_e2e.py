"""Cashiers set centrally: a fleet admin adds a cashier with a PIN and removes another,
for a group; the terminal's next apply lets the new one sign in and not the removed one.
Real processes (`pos-fleet secret set`, `config push`, `serve`, the terminal's agent), a
real Mosquitto with mutual TLS. The new PIN is never anywhere in plaintext: not in a
message (the broker's persistence file holds the retained bundles), not in a row of the
fleet's database or of the terminal's (read through its key), not in a log."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fleet.models import ConfigSecret, TerminalSecretsKey
from terminal.core.errors import PosError
from terminal.store.cashiers import check_pin
from terminal.store.journal import read_entries
from tests.conftest import ROOT
from tests.fleet.test_config_e2e import push, pushed_and_applied, shop_sections_toml, world
from tests.fleet_world import fleet_toml, wait_for

__all__ = ["world"]  # the fixture

NEW_PIN = "482913"  # Wulan's, set centrally
STAFF = """
[[cashiers]]
id = 1
name = "Sari"
role = "cashier"

[[cashiers]]
id = 2
name = "Budi"
role = "supervisor"
"""
BUDI_ONLY = STAFF[STAFF.index("[[cashiers]]\nid = 2") :]
WULAN = """
[[cashiers]]
id = 7
name = "Wulan"
role = "cashier"
"""


def secret_set(world, *args: str, value: str) -> subprocess.CompletedProcess:
    config = fleet_toml(
        world.tmp / "secret.toml",
        db_url=world.db_url,
        broker=world.broker,
        client_id="secret",
        signing=world.signing,
    )
    command = [sys.executable, "-m", "fleet.cli", "secret", "set", *args, "--stdin"]
    return subprocess.run(
        [*command, "--config", str(config)],
        cwd=ROOT,
        input=value + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


def plaintext_anywhere(world, shop, value: str) -> list[str]:
    """Where ``value`` is found: every file under the test's directory (the broker's
    persistence and log, the fleet's database, every process's log, the terminal's files)
    and every row of the terminal's database, read through its key."""
    found = []
    for path in world.tmp.rglob("*"):
        if path.is_file() and value.encode() in path.read_bytes():
            found.append(str(path.relative_to(world.tmp)))
    db = shop.pos.db
    for (table,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            if value in repr(row):
                found.append(f"terminal database, table {table}")
    return found


def test_a_cashier_added_and_one_removed_centrally_and_the_pin_is_never_in_plaintext(world):
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    db = world.db()  # (no transaction held: the ingest writes from another process)
    wait_for(  # the agent reported the key its secrets are sealed to
        lambda: (
            TerminalSecretsKey.select()
            .where(TerminalSecretsKey.terminal_id == "T01")
            .bind(db)
            .exists()
        ),
        "the terminal's secrets key at the fleet",
    )
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml() + STAFF)
    pushed_and_applied(push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "")

    # a PIN that breaks the rules is refused by the fleet, and nothing is kept
    weak = secret_set(world, "--group", "north", "--cashier", "7", value="1234")
    assert weak.returncode == 1 and "too easy" in weak.stdout, weak.stdout
    made = secret_set(world, "--group", "north", "--cashier", "7", value=NEW_PIN)
    assert made.returncode == 0, made.stdout + made.stderr
    assert NEW_PIN not in made.stdout + made.stderr
    (row,) = ConfigSecret.select().bind(db)
    assert (row.scope, row.name) == ("group:north", "cashier:7")

    group_doc = world.tmp / "north.toml"
    group_doc.write_text(WULAN)
    out = pushed_and_applied(
        push(world, "--group", "north", str(group_doc), "--wait", "30"), shop, "Wulan added"
    )
    assert "no PINs" not in out, out
    pos = shop.pos
    assert check_pin(pos.db, pos.hasher, 7, NEW_PIN).name == "Wulan"
    pos.sign_out()
    assert pos.sign_in("7", NEW_PIN).name == "Wulan"
    pos.sign_out()
    pos.sign_in("2", "2580")  # Budi, the supervisor, stays

    # Sari (1) is removed for the whole fleet: she can no longer sign in
    fleet_doc.write_text(shop_sections_toml() + BUDI_ONLY)
    pushed_and_applied(
        push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "Sari removed"
    )
    assert check_pin(pos.db, pos.hasher, 1, "1357") is None
    pos.sign_out()
    with pytest.raises(PosError):
        pos.sign_in("1", "1357")
    assert pos.sign_in("7", NEW_PIN).name == "Wulan"  # the group's cashier stays
    changes = [e["payload"] for e in read_entries(pos.db, types=("config_change",))]
    assert any(c.get("cashiers_added") == [7] and c.get("pins_set") == [7] for c in changes)
    assert any(c.get("cashiers_removed") == [1] for c in changes)

    for process in world.processes:
        process.terminate()
        process.wait(10)
    world.broker.stop()  # its persistence file written
    persistence = world.tmp / "broker" / "data" / "mosquitto.db"
    # the bundles with their sealed secrets were retained there (so it was searched)
    assert b'"secrets":"{' in persistence.read_bytes()
    assert plaintext_anywhere(world, shop, NEW_PIN) == []
    # (the search does see what is there: the name is in the terminal's cashier table)
    assert "terminal database, table cashier" in plaintext_anywhere(world, shop, "Wulan")


def test_pins_wait_for_the_terminal_key_and_config_sync_sends_them_later(world):
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    db = world.db()
    reported = TerminalSecretsKey.select().where(TerminalSecretsKey.terminal_id == "T01")
    wait_for(lambda: reported.bind(db).exists(), "the terminal's secrets key at the fleet")
    # as if T01 had never connected (or ran a release without the key): none known
    TerminalSecretsKey.delete().bind(db).execute()
    made = secret_set(world, "--group", "north", "--cashier", "7", value=NEW_PIN)
    assert made.returncode == 0, made.stdout + made.stderr
    fleet_doc = world.tmp / "fleet.toml"
    fleet_doc.write_text(shop_sections_toml() + STAFF + WULAN)
    out = pushed_and_applied(
        push(world, "--scope", "fleet", str(fleet_doc), "--wait", "30"), shop, "no PINs"
    )
    assert "no PINs or passkeys sent to T01" in out, out
    assert "pos-fleet config sync --terminal ID" in out, out
    pos = shop.pos
    assert check_pin(pos.db, pos.hasher, 7, NEW_PIN) is None  # named, waiting for a PIN

    shop.agent.terminate()  # the agent comes back: its state names its key again
    shop.agent.wait(10)
    shop.start_agent()
    wait_for(lambda: reported.bind(db).exists(), "the key reported at the reconnection")
    synced = world.fleet("config", "sync", "--terminal", "T01")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "the current bundle sent to T01" in synced.stdout, synced.stdout
    wait_for(
        lambda: pos.fleet_config.poll() or check_pin(pos.db, pos.hasher, 7, NEW_PIN),
        "Wulan's PIN applied",
    )
    assert pos.sign_in("7", NEW_PIN).name == "Wulan"
