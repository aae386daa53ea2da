"""Encryption at rest, the key store, and migrating a plaintext database."""

from __future__ import annotations

import base64
import sqlite3
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from terminal.core.errors import PosError
from terminal.services.bootstrap import build_terminal, seed_demo
from terminal.store.cashiers import FAST_TEST_PARAMS, PinHasher
from terminal.store.db import DatabaseUnusable, open_database
from terminal.store.keystore import KEY_NAMES, KeyStore, KeyStoreError, recover_keys
from terminal.store.migrate import MigrationError, encrypt_plaintext_database
from terminal.store.models import CashierRow, SaleRow
from terminal.store.sealing import Sealer
from tests.conftest import open_reader, with_open_shift


def sell(pos, *codes, tendered=100000):
    if pos.cashier is None:
        pos.sign_in("1", "1357")
    for code in codes:
        pos.scan(code)
    return pos.pay_cash(tendered)


def test_the_file_without_the_key_is_not_a_database(terminal, settings):
    sell(terminal.pos, "8991002101111")
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(settings.database_path).execute("SELECT * FROM sale").fetchall()


def test_no_plaintext_in_the_database_its_wal_or_the_logs(terminal, settings):
    import logging  # noqa: PLC0415

    from terminal.store.customers import CardAuth, add_customer, record_card_auth  # noqa: PLC0415
    from terminal.store.models import TenderRow  # noqa: PLC0415
    from terminal.store.sealing import Sealer  # noqa: PLC0415

    log_file = settings.data_dir / "logs" / "pos.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    try:
        sealer = Sealer(terminal.keys.key("sealing"))
        db = terminal.pos.db
        add_customer(db, sealer, "Siti Rahmawati", "+62 812 3456 7890", "Jl. Melati 7")
        sell(terminal.pos, "8991002101111", "GULA-1KG")
        record_card_auth(
            db,
            sealer,
            TenderRow.select().get(db).id,
            CardAuth("476173******0119", "A1B2C3", "004711", "52500001"),
        )
        with pytest.raises(PosError):
            terminal.pos.sign_in("1", "9999")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    database = [settings.database_path, settings.database_path.with_name("pos.db-wal")]
    assert database[1].stat().st_size > 0  # the WAL holds the recent pages
    assert log_file.stat().st_size > 0  # the sale was logged
    personal = (
        b"Siti",
        b"Rahmawati",
        b"6281234567890",
        b"Melati",
        b"476173",
        b"0119",
        b"A1B2C3",
        b"9999",
        b"1357",
    )
    for path in database:
        data = path.read_bytes()
        for secret in (*personal, b"Teh Botol", b"TEH-BTL", b"Sari", b"Toko Demo", b"argon2id"):
            assert secret not in data, (path.name, secret)
    logged = log_file.read_bytes()
    for secret in personal:
        assert secret not in logged, secret


def test_reports_keep_working_on_the_encrypted_file(terminal):
    pos = terminal.pos
    sell(pos, "8991002101111", tendered=10000)
    sell(pos, "GULA-1KG", "GULA-1KG", tendered=40000)
    con = open_reader(terminal)
    rows = con.execute(
        "SELECT sku, SUM(quantity_milli) / 1000, SUM(amount) FROM sale_line"
        " GROUP BY sku ORDER BY sku"
    ).fetchall()
    assert rows == [("GULA-1KG", 2, 35000), ("TEH-BTL", 1, 5500)]
    assert con.execute("SELECT SUM(total) FROM sale").fetchone()[0] == 40500


def test_a_wrong_key_is_a_clear_error(terminal, settings):
    sell(terminal.pos, "GULA-1KG")
    terminal.pos.db.close()
    with pytest.raises(DatabaseUnusable, match="key store does not belong to this database"):
        open_database(settings.database_path, bytes(32))


def test_a_damaged_database_stops_with_a_pointer_to_restore(terminal, settings):
    pos = terminal.pos
    for _ in range(20):
        sell(pos, "GULA-1KG", tendered=20000)
    pos.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    pos.db.close()
    data = bytearray(settings.database_path.read_bytes())
    for offset in range(4096 * 2 + 100, 4096 * 2 + 200):  # inside page 3
        data[offset] ^= 0xFF
    settings.database_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseUnusable, match="pos-terminal restore"):
        open_database(settings.database_path, terminal.keys.key("database"))


def test_key_store_file_is_private_stable_and_holds_no_plain_key(tmp_path):
    store = KeyStore.open_or_create(tmp_path / "keys")
    assert store.created
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    path = tmp_path / "keys" / "keystore.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    for name in KEY_NAMES:
        assert len(store.key(name)) == 32
        assert store.key(name).hex().encode() not in data  # wrapped, never in the clear
        assert base64.b64encode(store.key(name)) not in data
    again = KeyStore.open_or_create(tmp_path / "keys")
    assert not again.created
    assert all(again.key(n) == store.key(n) for n in KEY_NAMES)
    assert len({store.key(n) for n in KEY_NAMES}) == 4  # four different keys


def test_a_damaged_or_unopenable_key_store_is_named(tmp_path):
    KeyStore.open_or_create(tmp_path / "keys")
    path = tmp_path / "keys" / "keystore.json"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(KeyStoreError, match=r"is damaged.*keys recover"):
        KeyStore.open_existing(tmp_path / "keys")
    path.write_bytes(good)
    (tmp_path / "keys" / "file-protector.kek").unlink()
    with pytest.raises(KeyStoreError, match=r"protector's key .* is missing"):
        KeyStore.open_existing(tmp_path / "keys")
    with pytest.raises(KeyStoreError, match="no key store in"):
        KeyStore.open_existing(tmp_path / "elsewhere")


def test_recovery_export_brings_the_records_back_on_another_machine(terminal, settings, tmp_path):
    sell(terminal.pos, "GULA-1KG", tendered=20000)
    recovery = X25519PrivateKey.generate()  # kept by the owner, off the terminal
    export = terminal.keys.export_recovery(recovery.public_key())
    assert terminal.keys.key("database").hex().encode() not in export
    restored = recover_keys(export, recovery, tmp_path / "new-keys")
    terminal.pos.db.close()
    db = open_database(settings.database_path, restored.key("database"))
    assert db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 1
    with pytest.raises(KeyStoreError, match="not made for this recovery key"):
        recover_keys(export, X25519PrivateKey.generate(), tmp_path / "other")


def test_recovery_export_command(settings, tmp_path, terminal):
    import dataclasses  # noqa: PLC0415

    from terminal import admin  # noqa: PLC0415

    recovery = X25519PrivateKey.generate()
    public = recovery.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    security = dataclasses.replace(
        settings.security, recovery_public_key=base64.b64encode(public).decode()
    )
    out = tmp_path / "recovery.json"
    assert admin.keys_recovery_export(dataclasses.replace(settings, security=security), out) == 0
    restored = recover_keys(out.read_bytes(), recovery, tmp_path / "k")
    assert restored.key("journal_signing") == terminal.keys.key("journal_signing")


def test_migrating_a_plaintext_database_loses_nothing(settings, clock, tmp_path):
    # a database as the foundation issue left it: plaintext SQLite with sales in it, its
    # PINs hashed without a pepper, schema version 1
    db = open_database(settings.database_path, None)
    seed_demo(db, PinHasher(None, FAST_TEST_PARAMS), settings, Sealer(bytes(32)), clock())
    db.execute_sql("UPDATE cashier SET peppered = 0")
    db.execute_sql("PRAGMA user_version = 1")
    db.execute_sql("INSERT INTO counter VALUES ('T01', 2)")
    for number in (1, 2):
        SaleRow.insert(
            terminal_id="T01",
            number=number,
            created_at="2026-01-01 00:00:00",
            cashier=1,
            currency="IDR",
            prices_include_tax=True,
            net=900,
            tax=100,
            total=1000,
            return_code=f"R{number}",
        ).execute(db)
    db.close()
    keys = KeyStore.open_or_create(settings.security.key_dir)
    counts = encrypt_plaintext_database(settings.database_path, keys.key("database"))
    assert counts["sale"] == 2 and counts["product"] == 34 and counts["cashier"] == 2
    assert not settings.database_path.with_name("pos.db.plaintext").exists()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(settings.database_path).execute("SELECT 1 FROM sale").fetchall()
    # the terminal starts on it, the cashier signs in with the old PIN, numbering goes on
    terminal = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    outcome = sell(terminal.pos, "GULA-1KG", tendered=20000)
    assert outcome.committed.number == 3
    # ... and that sign-in re-hashed the PIN with the pepper
    row = CashierRow.select().where(CashierRow.id == 1).get(terminal.pos.db)
    assert row.peppered
    assert not PinHasher(None, FAST_TEST_PARAMS).matches("1357", row.pin_hash, peppered=False)
    with pytest.raises(MigrationError, match="already encrypted"):
        encrypt_plaintext_database(settings.database_path, keys.key("database"))


def test_old_key_files_with_one_missing_are_refused_not_completed(tmp_path):
    """The layout before protectors (one plain file per key): a missing pepper is never
    made anew, which would lock out every cashier."""
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in KEY_NAMES:
        (keys / f"{name}.key").write_bytes(bytes([len(name)]) * 32)
    (keys / "pin_pepper.key").unlink()
    with pytest.raises(KeyStoreError, match=r"missing pin_pepper.*keys recover"):
        KeyStore.open_or_create(keys)
    assert not (keys / "pin_pepper.key").exists() and not (keys / "keystore.json").exists()


def test_weaker_in_any_parameter_is_upgraded():
    from terminal.store.cashiers import Argon2Params  # noqa: PLC0415

    current = Argon2Params(65536, 3, 4)
    assert Argon2Params(131072, 2, 4).weaker_than(current)  # more memory, fewer passes
    assert not Argon2Params(65536, 3, 4).weaker_than(current)
