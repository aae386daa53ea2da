"""Keys that do not travel with the SD card: the key store wrapped by a TPM (a software
TPM here, swtpm), by the Pi's OTP key (the mailbox read injected), or by a key file
(development only), and the recovery export as the way back."""

from __future__ import annotations

import base64
import dataclasses
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlcipher3
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from terminal import admin
from terminal.services.bootstrap import build_terminal, protector_for
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.db import sqlcipher_key
from terminal.store.key_protectors import (
    ProtectorError,
    RpiOtpProtector,
    Tpm2Protector,
    parse_otp_answer,
    read_otp_private_key,
)
from terminal.store.keystore import KEY_NAMES, KeyStore, KeyStoreError
from tests.conftest import with_open_shift

# The answer printed in Raspberry Pi's documentation of the device private key
# (`vcmailbox 0x00030081 40 40 0 8 0 0 0 0 0 0 0 0`), and the key it holds.
DOC_ANSWER = (
    "0x00000040 0x80000000 0x00030081 0x00000028 0x80000028 0x00000000 0x00000008 "
    "0xf8dbc7b0 0xa4fcfb1d 0x706e298a 0xc9d0485c 0x2226ce8d 0xf7f7596a 0xc77337bd "
    "0x09fbe160 0x00000000\n"
)
DOC_KEY = "f8dbc7b0a4fcfb1d706e298ac9d0485c2226ce8df7f7596ac77337bd09fbe160"


def protected(settings, **security):
    return dataclasses.replace(
        settings, security=dataclasses.replace(settings.security, **security)
    )


def sell(pos, code="GULA-1KG"):
    if pos.cashier is None:
        pos.sign_in("1", "1357")
    pos.scan(code)
    return pos.pay_cash(20000).committed.number


def every_window(data: bytes):
    """Every 32-byte run of a file, raw and base64-decoded: whatever a thief could try."""
    seen = {data[i : i + 32] for i in range(max(0, len(data) - 31))}
    for token in data.replace(b'"', b" ").split():
        try:
            decoded = base64.b64decode(token, validate=True)
        except ValueError:
            continue
        seen |= {decoded[i : i + 32] for i in range(max(0, len(decoded) - 31))}
    return seen


def opens_with(path: Path, key: bytes) -> bool:
    con = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.execute(f'PRAGMA key="{sqlcipher_key(key)}"')
        con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        con.close()


# -- TPM 2.0 -----------------------------------------------------------------------------


def test_the_tpm_seals_and_only_that_tpm_unseals(software_tpm):
    shop, other = software_tpm("shop"), software_tpm("other")
    blob = Tpm2Protector(shop.tcti).wrap(b"the four keys", b"context")
    assert b"the four keys" not in blob
    assert Tpm2Protector(shop.tcti).unwrap(blob, b"context") == b"the four keys"
    with pytest.raises(ProtectorError, match="cannot unseal"):
        Tpm2Protector(other.tcti).unwrap(blob, b"context")
    with pytest.raises(ProtectorError, match="changed after it was sealed"):
        Tpm2Protector(shop.tcti).unwrap(blob, b"another context")


def test_no_tpm_is_a_clear_error(software_tpm):
    tpm = software_tpm()
    tcti = tpm.tcti
    tpm.stop()
    with pytest.raises(ProtectorError, match="no TPM answers"):
        Tpm2Protector(tcti).wrap(b"x", b"c")


def test_a_copied_card_opens_nothing_and_tests_no_pin_without_its_tpm(
    settings, clock, software_tpm, tmp_path
):
    shop_tpm = software_tpm("shop")
    own = protected(settings, protector="tpm2", tpm2_tcti=shop_tpm.tcti)
    terminal = with_open_shift(build_terminal(own, clock=clock, pin_params=FAST_TEST_PARAMS))
    assert sell(terminal.pos) == 1
    keys = {name: terminal.keys.key(name) for name in KEY_NAMES}
    # the SD card pulled and copied while the terminal ran: database, WAL, key store
    card = tmp_path / "stolen-card"
    shutil.copytree(settings.data_dir, card)
    files = [p for p in card.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"pos.db", "pos.db-wal", "keystore.json"}
    for path in files:
        data = path.read_bytes()
        for name, key in keys.items():
            assert key not in data and key.hex().encode() not in data, (path.name, name)
            assert base64.b64encode(key) not in data, (path.name, name)
    # on the thief's machine (another TPM): the key store does not open ...
    thief = protected(settings, protector="tpm2", tpm2_tcti=software_tpm("thief").tcti)
    with pytest.raises(KeyStoreError, match="cannot unseal the key store"):
        KeyStore.open_existing(card / "keys", protector_for(thief.security))
    # ... no 32 bytes found anywhere on the card opens the database, so not one PIN hash
    # can be read, and the pepper that every hash needs is not on the card either
    database = card / "pos.db"
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(database).execute("SELECT * FROM cashier").fetchall()
    small = [p for p in files if p.stat().st_size < 8192]  # the key store, not the database
    candidates = set().union(*(every_window(p.read_bytes()) for p in small))
    assert keys["database"] not in candidates and keys["pin_pepper"] not in candidates
    assert not any(opens_with(database, key) for key in list(candidates)[:400])
    # the shop's own terminal, with its TPM, goes on
    terminal.pos.db.close()
    again = build_terminal(own, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert sell(again.pos) == 2


def test_the_file_protector_on_the_card_protects_nothing(settings, clock, tmp_path):
    """Why `file` is for development only, and why production warns: its key travels with
    the card, and the copy opens."""
    terminal = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    sell(terminal.pos)
    card = tmp_path / "stolen-card"
    shutil.copytree(settings.data_dir, card)
    stolen = KeyStore.open_existing(card / "keys")  # the key file came along
    assert opens_with(card / "pos.db", stolen.key("database"))


def test_moving_the_card_to_another_terminal_needs_the_recovery_export(
    settings, clock, software_tpm, tmp_path, capsys
):
    """A dead terminal's card in a new one (or a replaced TPM): the records come back only
    through the owner's recovery export, and nothing is lost or renumbered."""
    pair = tmp_path / "owner"
    assert admin.keys_recovery_keypair(pair) == 0
    public = capsys.readouterr().out.split('recovery_public_key = "')[1].split('"')[0]
    old = protected(
        settings, protector="tpm2", tpm2_tcti=software_tpm("old").tcti, recovery_public_key=public
    )
    terminal = with_open_shift(build_terminal(old, clock=clock, pin_params=FAST_TEST_PARAMS))
    assert sell(terminal.pos) == 1
    export = tmp_path / "usb" / "T01-keys.json"
    export.parent.mkdir()
    assert admin.keys_recovery_export(old, export) == 0
    assert sell(terminal.pos) == 2
    terminal.stop()
    terminal.pos.db.close()

    new = protected(old, tpm2_tcti=software_tpm("new").tcti)  # the same card, another Pi
    with pytest.raises(KeyStoreError, match="made on another terminal, or the TPM"):
        build_terminal(new, clock=clock, pin_params=FAST_TEST_PARAMS)
    with pytest.raises(KeyStoreError, match=r"not an X25519 recovery private key|not a recovery"):
        admin.keys_recover(new, export, export)
    assert admin.keys_recover(new, export, pair / "recovery-private-key.pem") == 0
    moved = build_terminal(new, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert moved.keys.memory["head"]["seq"] >= 5  # the memory came along: checks still hold
    assert sell(moved.pos) == 3
    assert moved.pos.journal.verify().ok


def test_keys_protect_moves_a_store_from_the_file_to_a_tpm(settings, clock, software_tpm):
    terminal = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    sell(terminal.pos)
    terminal.pos.db.close()
    with_tpm = protected(settings, protector="tpm2", tpm2_tcti=software_tpm().tcti)
    with pytest.raises(KeyStoreError, match=r"protected by 'file'.*keys protect"):
        build_terminal(with_tpm, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert admin.keys_protect(with_tpm) == 0
    (settings.security.key_dir / "file-protector.kek").unlink()  # no longer needed
    again = build_terminal(with_tpm, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert again.keys.protector.name == "tpm2"
    assert sell(again.pos) == 2


# -- the Pi's OTP key ----------------------------------------------------------------------


def test_the_otp_key_is_read_as_rpi_otp_private_key_reads_it():
    calls = []

    def vcmailbox(command, **_kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, DOC_ANSWER, "")

    assert read_otp_private_key(vcmailbox).hex() == DOC_KEY
    assert calls == [["vcmailbox", "0x00030081", "40", "40", "0", "8", *["0"] * 8]]


@pytest.mark.parametrize(
    ("returncode", "stdout", "message"),
    [
        (0, DOC_ANSWER.replace("0xf8dbc7b0", "0x00000000").replace(DOC_KEY[8:16], "0"), None),
        (0, " ".join(["0x00000040", "0x80000000", "0x00030081"] + ["0x0"] * 13), "not programmed"),
        (0, DOC_ANSWER.replace("0x80000000", "0x80000001", 1), "firmware refused"),
        (0, "garbage from a serial console", "unexpected"),
        (0, "0x00000040 0x80000000", "firmware refused"),
        (255, "", "needs a Raspberry Pi 4 or 5"),
    ],
)
def test_every_wrong_mailbox_answer_is_named(returncode, stdout, message):
    if message is None:  # a key with a zero row is still a key
        assert len(parse_otp_answer(returncode, stdout)) == 32
        return
    with pytest.raises(ProtectorError, match=message):
        parse_otp_answer(returncode, stdout)


def test_no_vcmailbox_is_a_clear_error():
    def missing(command, **_kwargs):
        raise FileNotFoundError(2, "No such file or directory", command[0])

    with pytest.raises(ProtectorError, match=r"vcmailbox .* is needed"):
        read_otp_private_key(missing)


def test_the_otp_protector_opens_only_on_its_own_pi(settings, clock):
    this_pi = bytes.fromhex(DOC_KEY)
    another_pi = bytes(31) + b"\x01"
    on = protected(settings, protector="rpi-otp")
    store = KeyStore.open_or_create(on.security.key_dir, RpiOtpProtector(read_key=lambda: this_pi))
    document = (on.security.key_dir / "keystore.json").read_bytes()
    assert store.key("pin_pepper") not in document
    again = KeyStore.open_existing(on.security.key_dir, RpiOtpProtector(lambda: this_pi))
    assert again.key("pin_pepper") == store.key("pin_pepper")
    with pytest.raises(KeyStoreError, match="made on another Pi"):
        KeyStore.open_existing(on.security.key_dir, RpiOtpProtector(lambda: another_pi))


# -- production warning ----------------------------------------------------------------------


def test_a_production_terminal_on_the_file_protector_is_warned(settings, capsys):
    from terminal.hal_cli import cmd_list  # noqa: PLC0415
    from terminal.services.key_protection import key_protection_warning  # noqa: PLC0415

    production = dataclasses.replace(settings, environment="production")
    assert key_protection_warning(settings) is None  # make run: development
    assert key_protection_warning(production) is not None
    assert key_protection_warning(protected(production, protector="tpm2")) is None
    cmd_list(production)
    out = capsys.readouterr().out
    assert "WARNING" in out and "SD" in out
    cmd_list(protected(production, protector="tpm2"))
    assert "WARNING" not in capsys.readouterr().out


def test_a_recovery_export_needs_its_private_key(settings, tmp_path):
    store = KeyStore.open_or_create(settings.security.key_dir)
    export = store.export_recovery(X25519PrivateKey.generate().public_key())
    (tmp_path / "x.json").write_bytes(export)
    with pytest.raises(KeyStoreError, match="not a recovery private key"):
        admin.keys_recover(settings, tmp_path / "x.json", tmp_path / "nothing.pem")
