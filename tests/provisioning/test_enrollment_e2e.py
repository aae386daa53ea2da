"""From a card to a selling terminal, for real: `pos-provision card` (a new token) writes the
bundle into a directory standing for the boot partition; `pos-provision firstboot` (a
process, as its unit runs it) makes the terminal's keys, asks the fleet over the broker's
enrollment broker (a real Mosquitto, TLS), gets its certificate and writes its
configuration; the terminal then starts with its agent, gets the fleet's configuration
(a cashier and her PIN set centrally, a price), sells, and the sale arrives at the fleet.
The same token used again by another device, an expired one and an unknown one are
refused, with the reason on the screen and on the status ticket, and nothing is written."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fleet.enrollment import make_token
from fleet.models import Alert, EnrollmentToken, Sale, TerminalKey
from terminal.config import parse_settings
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import head
from tests.conftest import ROOT
from tests.fleet.test_config_e2e import (
    TEH,
    applied,
    push,
    pushed_and_applied,
    shop_sections_toml,
    world,
)
from tests.fleet.test_config_staff_e2e import secret_set
from tests.fleet_world import all_held, fleet_toml, wait_for

__all__ = ["world"]  # the fixture

PIN = "482913"  # Wulan's, set centrally
SUPERVISOR_PIN = "739164"  # Budi's
FLEET_DOCUMENT = """
[[cashiers]]
id = 7
name = "Wulan"
role = "cashier"

[[cashiers]]
id = 8
name = "Budi"
role = "supervisor"

[[products]]
sku = "TEH-BTL"
name = "Teh Botol Sosro 450 ml"
price = 6000
tax_class = "PPN"
barcodes = ["8991002101111"]
"""


def provision(world, *args: str) -> subprocess.CompletedProcess:
    config = fleet_toml(
        world.tmp / "provision.toml",
        db_url=world.db_url,
        broker=world.broker,
        client_id="provision",
        signing=world.signing,
    )
    return subprocess.run(
        [sys.executable, "-m", "provisioning.cli", "--fleet-config", str(config), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def first_boot(boot: Path, data: Path, timeout: str = "20") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "provisioning.cli",
            "firstboot",
            "--boot",
            str(boot),
            "--config",
            str(data / "pos.toml"),
            "--template",
            str(ROOT / "config" / "pos.toml"),
            "--timeout",
            timeout,
            "--retry-for",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )


def ticket_text(data: Path) -> str:
    """What the status ticket printed (the simulator printer's ESC/POS stream)."""
    printed = sorted(data.rglob("*status-ticket*.escpos"))
    assert printed, f"no status ticket under {data}"
    return printed[-1].read_bytes().decode("cp437", "replace")


def card(world, boot: Path, *args: str) -> subprocess.CompletedProcess:
    boot.mkdir(parents=True, exist_ok=True)
    made = provision(world, "card", str(boot), "--store", "S1", "--key-protector", "file", *args)
    assert made.returncode == 0, made.stdout + made.stderr
    return made


def test_a_card_to_an_enrolled_selling_terminal_and_tokens_refused(world):
    # a fleet with a terminal already: its configuration is out (a rollout done), with
    # a cashier whose PIN is set centrally
    shop = world.shop("T01", group="north", config_root_key=f'"{world.root_public}"')
    world.serve()
    shop.start_agent()
    for cashier, pin in (("7", PIN), ("8", SUPERVISOR_PIN)):
        made = secret_set(world, "--scope", "fleet", "--cashier", cashier, value=pin)
        assert made.returncode == 0, made.stdout + made.stderr
    document = world.tmp / "fleet-doc.toml"
    document.write_text(shop_sections_toml() + FLEET_DOCUMENT)
    pushed_and_applied(push(world, "--scope", "fleet", str(document), "--wait", "30"), shop, "")

    # the technician writes the card for a new terminal T02 of store S1
    boot, data = world.tmp / "boot", world.tmp / "T02"
    written = card(
        world, boot, "--terminal-name", "T02", "--group", "north", "--timezone", "Asia/Jakarta"
    )
    assert "pos-provision.toml" in written.stdout
    assert {p.name for p in boot.iterdir()} == {
        "pos-provision.toml",
        "meta-data",
        "user-data",
        "network-config",
    }
    assert 'hostname: "pos-t02"' in (boot / "user-data").read_text()
    copied = (boot / "pos-provision.toml").read_text()  # a copy of the card, kept
    token = tomllib.loads(copied)["fleet"]["token"]

    booted = first_boot(boot, data)
    assert booted.returncode == 0, booted.stdout + booted.stderr
    assert "ENROLLED: terminal T02 of S1" in booted.stdout
    assert not (boot / "pos-provision.toml").exists()  # the token is gone from the card
    assert (boot / "network-config").exists()  # read again at every boot
    assert (data / "enrolled").exists()
    printed = ticket_text(data)
    # in the shop's language (Indonesian), as its receipts are
    for words in ("PENYIAPAN TERMINAL", "T02", "S1", "TERDAFTAR", "fleet v1", "berkas"):
        assert words in printed, words
    assert "TIDAK TERDAFTAR" not in printed
    with (data / "pos.toml").open("rb") as fh:
        written_config = tomllib.load(fh)
    assert written_config["terminal"]["id"] == "T02"
    assert written_config["fleet"]["enabled"] is True
    assert written_config["fleet"]["group"] == "north"
    assert written_config["store"]["demo_catalogue"] is False
    assert (data / "fleet" / "client.key").stat().st_mode & 0o077 == 0

    # a second first boot does nothing
    again = first_boot(boot, data)
    assert again.returncode == 0 and "already enrolled" in again.stdout

    # the terminal starts (its app and its agent) and takes the fleet's configuration
    settings = parse_settings(tomllib.loads((data / "pos.toml").read_text()))
    built = build_terminal(settings, pin_params=FAST_TEST_PARAMS)
    world.spawn(["-m", "terminal", "--config", str(data / "pos.toml"), "agent"], "agent-T02")

    class NewShop:  # what the helpers read: the terminal's pos
        pos = built.pos

    wait_for(
        lambda: built.pos.fleet_config.poll() or "fleet" in applied(NewShop),
        "the fleet's configuration applied on T02",
    )
    pos = built.pos
    assert pos.sign_in("7", PIN).name == "Wulan"
    built.shifts.open(0)
    pos.scan(TEH)
    assert pos.cart.lines[0].amount == 6000
    number = pos.pay_cash(10000).committed.number
    db = world.db()
    wait_for(
        lambda: (
            Sale.select()
            .where((Sale.terminal_id == "T02") & (Sale.number == number))
            .bind(db)
            .exists()
        ),
        "T02's sale at the fleet",
    )

    # the same token again, from another device: refused, nothing written there
    row = EnrollmentToken.select().where(EnrollmentToken.terminal_id == "T02").bind(db).get()
    assert row.used_at is not None and row.certificate.count("BEGIN CERTIFICATE") == 2
    boot2, data2 = world.tmp / "boot2", world.tmp / "other"
    boot2.mkdir()
    (boot2 / "pos-provision.toml").write_text(copied)  # the card copied onto another one
    replayed = first_boot(boot2, data2)
    assert replayed.returncode == 1
    assert "token used" in replayed.stdout and "another device" in replayed.stdout
    assert not (data2 / "pos.toml").exists() and not (data2 / "enrolled").exists()
    assert not (data2 / "fleet" / "client.crt").exists()  # only its keys were made
    assert (boot2 / "pos-provision.toml").exists()  # kept: a retry is possible
    assert "TIDAK TERDAFTAR" in ticket_text(data2) and "sudah dipakai" in ticket_text(data2)
    token_file = world.tmp / "token.txt"
    token_file.write_text(token + "\n")
    spent = provision(
        world,
        "card",
        str(boot2),
        "--store",
        "S1",
        "--terminal-name",
        "T02",
        "--token-file",
        str(token_file),
    )
    assert spent.returncode == 2 and "this token was used" in spent.stderr

    # a card whose token expired before the terminal was switched on
    old = make_token(
        db,
        "T03",
        store="S1",
        now=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2),
        valid=timedelta(hours=1),
    )
    boot3, data3 = world.tmp / "boot3", world.tmp / "T03"
    boot3.mkdir()
    bundle = boot3 / "pos-provision.toml"
    bundle.write_text(copied.replace('"T02"', '"T03"').replace(token, old.token))
    expired = first_boot(boot3, data3)
    assert expired.returncode == 1 and "token expired" in expired.stdout
    assert "kedaluwarsa" in ticket_text(data3)

    # a token the fleet never made (a card from another fleet, a typo)
    bundle.write_text(bundle.read_text().replace(old.token, "x" * 32))
    unknown = first_boot(boot3, data3)
    assert unknown.returncode == 1 and "unknown token" in unknown.stdout
    assert not (data3 / "enrolled").exists()


def test_a_replacement_terminal_takes_over_the_lost_ones_records_at_its_first_boot(world):
    """T01 sold and died. The technician writes a card for T01 with the fleet's copy of its
    records; the new hardware's first boot enrolls (a new key, beside the old one at the
    fleet), takes over the records, and its agent carries the journal on: the fleet's
    chain for T01 verifies across the two devices, with no alert."""
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    sold = shop.sell(3)
    all_held(world, shop)
    shop.agent.terminate()
    shop.agent.wait(10)
    shop.pos.db.close()  # the old terminal is gone
    copy = world.tmp / "T01.posfleet"
    exported = world.fleet("export", "T01", str(copy))
    assert exported.returncode == 0, exported.stdout + exported.stderr

    boot, data = world.tmp / "boot", world.tmp / "T01-new"
    card(world, boot, "--terminal-name", "T01", "--group", "north", "--restore-from", str(copy))
    assert (boot / "pos-restore.posfleet").exists()
    booted = first_boot(boot, data)
    assert booted.returncode == 0, booted.stdout + booted.stderr
    assert "taking over T01's records" in booted.stdout
    assert not (boot / "pos-restore.posfleet").exists() and (data / "enrolled").exists()
    assert "diambil alih" in ticket_text(data)  # "taken over", in the shop's language

    settings = parse_settings(tomllib.loads((data / "pos.toml").read_text()))
    built = build_terminal(settings, pin_params=FAST_TEST_PARAMS)
    db = world.db()
    assert TerminalKey.select().where(TerminalKey.terminal_id == "T01").bind(db).count() == 2
    replacement = SimpleNamespace(
        terminal_id="T01", pos=built.pos, head=lambda: head(built.pos.db).seq
    )
    world.spawn(["-m", "terminal", "--config", str(data / "pos.toml"), "agent"], "agent-T01-new")
    all_held(world, replacement)
    verified = world.fleet("verify", "T01")
    assert verified.returncode == 0, verified.stdout
    assert not Alert.select().where(Alert.terminal_id == "T01").bind(db).exists()
    assert sorted(s.number for s in Sale.select().where(Sale.terminal_id == "T01").bind(db)) == sold


def test_a_first_boot_without_an_answer_is_retried_with_the_same_key(world):
    """The fleet's enrollment service is not running: no answer, nothing written but the
    keys, the card kept. Switched on again once the fleet runs: the same MQTT key asks,
    and the certificate is for it."""
    boot, data = world.tmp / "boot", world.tmp / "T05"
    card(world, boot, "--terminal-name", "T05")
    silent = first_boot(boot, data, timeout="2")
    assert silent.returncode == 1 and "no answer from the fleet" in silent.stdout
    key = (data / "fleet" / "client.key").read_bytes()
    assert not (data / "fleet" / "client.crt").exists() and not (data / "pos.toml").exists()
    assert (boot / "pos-provision.toml").exists()
    assert "tidak terjangkau" in ticket_text(data)  # "not reached", on the ticket
    world.serve()
    again = first_boot(boot, data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (data / "fleet" / "client.key").read_bytes() == key
    certificate = x509.load_pem_x509_certificates((data / "fleet" / "client.crt").read_bytes())
    private = serialization.load_pem_private_key(key, None)
    assert certificate[0].public_key() == private.public_key()
