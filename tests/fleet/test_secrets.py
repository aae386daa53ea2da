"""The fleet's PINs and passkeys (``fleet.secrets``): set sealed to the fleet's own secrets
key and never stored as typed, sealed again per terminal at a push (the most specific
scope's value), checked with the terminal's own verifier and opened with the terminal's
key; ``pos-fleet secret list`` never prints a value."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import peewee
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import secrets as fleet_secrets
from fleet import signing as fleet_signing
from fleet.models import ConfigSecret, Terminal, TerminalSecretsKey
from fleet.registry import register_terminal
from terminal.core import config_secrets as cs
from terminal.core import signed_config as sc
from terminal.core.signed_config import Scope
from tests.conftest import ROOT
from tests.fleet.test_signing import PosFleet

NORTH = Scope("group", "north")
FLEET = Scope("fleet", "")
STAFF = {
    "cashiers": [
        {"id": 1, "name": "Sari", "role": "cashier"},
        {"id": 2, "name": "Budi", "role": "supervisor"},
        {"id": 7, "name": "Wulan", "role": "cashier"},
        {"id": 8, "name": "Gone", "role": "cashier", "active": False},
    ],
    "passkeys": {"discounts": True},
}
FLEET_PIN, NORTH_PIN, OWN_PIN = "273849", "482913", "619274"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def signing_dir(tmp_path):
    fleet_signing.init(tmp_path / "root", tmp_path / "signing", now())
    return tmp_path / "signing"


def terminal_keys() -> dict:
    return {tid: cs.terminal_key(tid.encode() * 8) for tid in ("T01", "T02", "T03", "T04")}


@pytest.fixture
def terminals(fleet_db):
    """T01 and T02 in group north, T03 in south (each reported its key), T04 in north
    (no key reported yet)."""
    keys = terminal_keys()
    for tid, group in (("T01", "north"), ("T02", "north"), ("T03", "south"), ("T04", "north")):
        journal_key = Ed25519PrivateKey.generate().public_key()
        register_terminal(
            fleet_db, tid, store="S1", group=group, public_key_pem=sc.public_pem(journal_key)
        )
        if tid != "T04":
            TerminalSecretsKey.insert(
                terminal_id=tid,
                public_key=cs.public_hex(keys[tid]),
                reported_at=now().replace(tzinfo=None),
            ).execute(fleet_db)
    return keys


def document(signing_dir, body: dict, scope: Scope = FLEET) -> str:
    _kid, private = fleet_signing.signer_for(signing_dir, scope)
    at = now()
    return sc.sign(
        private, sc.config_payload(scope, 1, at - timedelta(hours=1), at + timedelta(days=1), body)
    ).decode()


def sha(envelope: str) -> str:
    return hashlib.sha256(base64.b64decode(json.loads(envelope)["payload"])).hexdigest()


def terminal(db, tid: str) -> Terminal:
    return Terminal.select().where(Terminal.id == tid).bind(db).get()


def trust(signing_dir) -> sc.Trust:
    return sc.Trust(
        (signing_dir / fleet_signing.ROOT_PUBLIC).read_bytes(),
        key_list=(signing_dir / fleet_signing.KEY_LIST).read_bytes(),
    )


def opened(signing_dir, keys, tid: str, envelopes: list[str], data: str) -> dict[str, str]:
    """What the terminal makes of the sealer's output: verified, then opened."""
    sealed = cs.verify_secrets(
        data.encode(),
        trust=trust(signing_dir),
        terminal_id=tid,
        scopes=[FLEET],
        documents=[sha(e) for e in envelopes],
        now=now(),
    )
    return cs.open_secrets(keys[tid], tid, sealed, sealed)


# -- setting ----------------------------------------------------------------------------------
def test_a_weak_pin_is_refused_without_the_value_and_nothing_kept(fleet_db, signing_dir):
    for name, value in (
        ("cashier:7", "1234"),
        ("cashier:7", "999999"),
        ("cashier:7", "12"),
        ("passkey:discounts", "5038"),
        ("passkey:discounts", "123456"),
    ):
        with pytest.raises(fleet_secrets.SecretError) as caught:
            fleet_secrets.set_secret(fleet_db, signing_dir, NORTH, name, value)
        assert name in str(caught.value) and value not in str(caught.value)
    with pytest.raises(ValueError):
        fleet_secrets.set_secret(fleet_db, signing_dir, NORTH, "cashier:0", NORTH_PIN)
    assert fleet_secrets.list_secrets(fleet_db) == []


def test_only_a_sealed_value_is_stored(fleet_db, signing_dir):
    fleet_secrets.set_secret(fleet_db, signing_dir, NORTH, "cashier:7", NORTH_PIN)
    (row,) = ConfigSecret.select().bind(fleet_db)
    assert (row.scope, row.name) == ("group:north", "cashier:7")
    assert NORTH_PIN not in row.sealed
    assert NORTH_PIN.encode() not in base64.b64decode(row.sealed)
    escrow = fleet_secrets._private(signing_dir)
    assert cs.open_sealed(escrow, cs.escrow_context(NORTH, "cashier:7"), row.sealed) == NORTH_PIN
    # bound to its scope and name: not opened as another's
    with pytest.raises(ValueError):
        cs.open_sealed(escrow, cs.escrow_context(FLEET, "cashier:7"), row.sealed)
    key_file = signing_dir / fleet_secrets.SECRETS_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # set again: replaced, one row
    fleet_secrets.set_secret(fleet_db, signing_dir, NORTH, "cashier:7", OWN_PIN)
    (row,) = ConfigSecret.select().bind(fleet_db)
    assert cs.open_sealed(escrow, cs.escrow_context(NORTH, "cashier:7"), row.sealed) == OWN_PIN
    assert fleet_secrets.remove_secret(fleet_db, NORTH, "cashier:7")
    assert not fleet_secrets.remove_secret(fleet_db, NORTH, "cashier:7")


# -- sealing for a terminal -------------------------------------------------------------------
def test_the_most_specific_scope_wins_and_each_terminal_opens_its_own(
    fleet_db, signing_dir, terminals
):
    fleet_secrets.set_secret(fleet_db, signing_dir, FLEET, "cashier:7", FLEET_PIN)
    fleet_secrets.set_secret(fleet_db, signing_dir, NORTH, "cashier:7", NORTH_PIN)
    fleet_secrets.set_secret(fleet_db, signing_dir, Scope("terminal", "T01"), "cashier:7", OWN_PIN)
    fleet_secrets.set_secret(fleet_db, signing_dir, FLEET, "passkey:discounts", "503827")
    fleet_secrets.set_secret(fleet_db, signing_dir, FLEET, "cashier:9", "864209")  # not named
    fleet_secrets.set_secret(fleet_db, signing_dir, FLEET, "cashier:8", "864209")  # inactive
    fleet_secrets.set_secret(fleet_db, signing_dir, Scope("group", "south"), "cashier:1", "9753")
    envelopes = [document(signing_dir, STAFF)]
    sealer = fleet_secrets.TerminalSealer(fleet_db, signing_dir, FLEET)
    outputs = {tid: sealer(terminal(fleet_db, tid), envelopes) for tid in terminals}

    assert opened(signing_dir, terminals, "T01", envelopes, outputs["T01"]) == {
        "cashier:7": OWN_PIN,
        "passkey:discounts": "503827",
    }
    assert opened(signing_dir, terminals, "T02", envelopes, outputs["T02"]) == {
        "cashier:7": NORTH_PIN,
        "passkey:discounts": "503827",
    }
    assert opened(signing_dir, terminals, "T03", envelopes, outputs["T03"]) == {
        "cashier:1": "9753",
        "cashier:7": FLEET_PIN,
        "passkey:discounts": "503827",
    }
    # T04 has not reported its key: nothing sent, and it is said
    assert outputs["T04"] == "" and sealer.missing == {"T04"}
    for data in outputs.values():
        for pin in (FLEET_PIN, NORTH_PIN, OWN_PIN, "503827", "864209", "9753"):
            assert pin not in data
    # another terminal's output: neither verifies nor opens as T02's
    with pytest.raises(sc.ConfigRefused):
        opened(signing_dir, terminals, "T02", envelopes, outputs["T01"])
    sealed_t01 = json.loads(base64.b64decode(json.loads(outputs["T01"])["payload"]))["secrets"]
    with pytest.raises(sc.ConfigRefused):
        cs.open_secrets(terminals["T02"], "T01", sealed_t01, sealed_t01)


def test_nothing_is_sealed_when_the_documents_use_no_secret_or_none_is_set(
    fleet_db, signing_dir, terminals
):
    sealer = fleet_secrets.TerminalSealer(fleet_db, signing_dir, FLEET)
    t01 = terminal(fleet_db, "T01")
    assert sealer(t01, [document(signing_dir, {"store": {"name": "Toko"}})]) == ""
    assert sealer(t01, [document(signing_dir, STAFF)]) == ""  # none set
    assert sealer(terminal(fleet_db, "T04"), [document(signing_dir, STAFF)]) == ""
    assert sealer.missing == set()  # (T04 needed none)


def test_a_value_sealed_with_another_signing_directory_is_named(
    fleet_db, signing_dir, terminals, tmp_path
):
    fleet_secrets.set_secret(fleet_db, signing_dir, FLEET, "cashier:7", FLEET_PIN)
    (signing_dir / fleet_secrets.SECRETS_KEY).unlink()
    (signing_dir / fleet_secrets.SECRETS_PUBLIC).unlink()
    fleet_secrets.ensure_key(signing_dir)  # a new secrets key
    sealer = fleet_secrets.TerminalSealer(fleet_db, signing_dir, FLEET)
    with pytest.raises(fleet_secrets.SecretError, match="cashier:7") as caught:
        sealer(terminal(fleet_db, "T01"), [document(signing_dir, STAFF)])
    assert FLEET_PIN not in str(caught.value)


# -- the command ------------------------------------------------------------------------------
def set_secret(pos_fleet: PosFleet, *args: str, value: str) -> subprocess.CompletedProcess:
    """``pos-fleet secret set ... --stdin`` (as an admin's script would)."""
    config = ["--config", str(pos_fleet.config)]
    done = subprocess.run(
        [sys.executable, "-m", "fleet.cli", "secret", "set", *args, "--stdin", *config],
        cwd=ROOT,
        input=value + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    pos_fleet.outputs += [done.stdout, done.stderr]
    return done


def test_secret_list_never_prints_a_value(tmp_path):
    pos_fleet = PosFleet(tmp_path)
    assert pos_fleet.keys("init").returncode == 0
    weak = set_secret(pos_fleet, "--group", "north", "--cashier", "7", value="1111")
    assert weak.returncode == 1 and "too easy" in weak.stdout, weak.stdout
    for args, value in (
        (("--group", "north", "--cashier", "7"), NORTH_PIN),
        (("--scope", "fleet", "--passkey", "discounts"), "503827"),
    ):
        done = set_secret(pos_fleet, *args, value=value)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = pos_fleet("secret", "list")
    assert listed.returncode == 0, listed.stderr
    assert "cashier:7" in listed.stdout and "passkey:discounts" in listed.stdout
    assert "group:north" in listed.stdout
    north = pos_fleet("secret", "list", "--group", "north")
    assert "cashier:7" in north.stdout and "passkey:discounts" not in north.stdout
    for text in pos_fleet.outputs:
        assert "1111" not in text and NORTH_PIN not in text and "503827" not in text
    db = peewee.SqliteDatabase(str(tmp_path / "fleet.db"))
    rows = list(ConfigSecret.select().bind(db))
    assert len(rows) == 2
    for row in rows:  # nor the sealed values
        assert row.sealed[:16] not in listed.stdout + north.stdout
    removed = pos_fleet("secret", "remove", "--group", "north", "--cashier", "7")
    assert removed.returncode == 0
    assert "cashier:7" not in pos_fleet("secret", "list").stdout
