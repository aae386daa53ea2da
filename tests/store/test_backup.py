"""Backup while selling, restore after a loss, and every kind of bad backup refused."""

from __future__ import annotations

import pytest

from terminal import admin
from terminal.store.backup import BackupError, inspect
from terminal.store.keystore import KeyStore
from tests.conftest import open_reader


def sell(pos, n):
    if pos.cashier is None:
        pos.sign_in("1", "1357")
    for _ in range(n):
        pos.scan("GULA-1KG")
        pos.pay_cash(20000)


def sales_in(terminal):
    con = open_reader(terminal)
    try:
        return [r[0] for r in con.execute("SELECT number FROM sale ORDER BY number")]
    finally:
        con.close()


@pytest.fixture
def backed_up(terminal, settings, tmp_path):
    """Three sales, an online backup to a 'USB stick', then two more sales."""
    sell(terminal.pos, 3)
    stick = tmp_path / "usb"
    stick.mkdir()
    assert admin.backup(settings, stick) == 0  # while the terminal's connection is open
    sell(terminal.pos, 2)  # the terminal kept working
    (backup_file,) = stick.glob("pos-T01-*.posdb")
    return backup_file


def test_online_backup_is_encrypted_checked_and_complete(terminal, backed_up):
    assert b"Gulaku" not in backed_up.read_bytes()
    assert not backed_up.with_name(backed_up.name + "-wal").exists()  # one file
    info = inspect(backed_up, terminal.keys.key("database"), terminal.keys.journal_public_key())
    assert (info.sales, info.last_number, info.journal_entries) == (
        3,
        3,
        5,
    )  # start, shift open, 3 sales
    assert sales_in(terminal) == [1, 2, 3, 4, 5]


def test_restore_puts_the_backup_back_keeps_the_old_file_and_never_reuses_a_number(
    terminal, settings, backed_up, capsys
):
    terminal.pos.db.close()
    assert admin.restore(settings, backed_up) == 0
    out = capsys.readouterr().out
    assert "sales 4-5 were made after this backup" in out
    kept = list(settings.data_dir.glob("pos.db.replaced-*"))
    assert len([k for k in kept if k.name.endswith(tuple("0123456789Z"))]) == 1
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415

    again = build_terminal(settings, pin_params=FAST_TEST_PARAMS)
    assert sales_in(again) == [1, 2, 3]
    sell(again.pos, 1)
    assert sales_in(again)[-1] == 6  # 4 and 5 are on receipts already: never issued again
    assert again.pos.journal.verify().ok


def test_bad_backups_are_refused_and_nothing_changes(terminal, settings, backed_up, tmp_path):
    before = settings.database_path.read_bytes()
    truncated = tmp_path / "truncated.posdb"
    truncated.write_bytes(backed_up.read_bytes()[: backed_up.stat().st_size // 2])
    not_a_backup = tmp_path / "photo.posdb"
    not_a_backup.write_bytes(b"\x89PNG\r\n" + bytes(5000))
    foreign_keys = KeyStore.open_or_create(tmp_path / "other-terminal-keys")
    cases = {
        truncated: "damaged or truncated",
        not_a_backup: "cannot be read with this terminal's keys",
        tmp_path / "missing.posdb": "no such file",
    }
    for source, message in cases.items():
        with pytest.raises(BackupError, match=message):
            admin.restore(settings, source)
    with pytest.raises(BackupError, match="cannot be read with this terminal's keys"):
        inspect(backed_up, foreign_keys.key("database"), terminal.keys.journal_public_key())
    assert settings.database_path.read_bytes() == before
    assert not list(settings.data_dir.glob("pos.db.replaced-*"))


def test_a_backup_with_a_tampered_journal_is_refused(terminal, settings, backed_up):
    import sqlcipher3  # noqa: PLC0415

    from terminal.store.db import sqlcipher_key  # noqa: PLC0415

    con = sqlcipher3.connect(str(backed_up))
    con.execute(f'PRAGMA key="{sqlcipher_key(terminal.keys.key("database"))}"')
    con.execute("DROP TRIGGER journal_no_update")
    con.execute("UPDATE journal SET grand_total = 0 WHERE seq = 3")
    con.commit()
    con.close()
    with pytest.raises(BackupError, match="journal does not verify: journal BROKEN at seq 3"):
        admin.restore(settings, backed_up)
