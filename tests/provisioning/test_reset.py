"""`pos-provision reset` on a real terminal's files: refused while entries are not at the
fleet (unless forced), the journal exported first either way (and it verifies); a
re-enroll keeps the records and begins a new epoch; a wipe leaves nothing but the
export."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from provisioning.firstboot import ENROLLED, FLEET_FILES
from provisioning.reset import ResetRefused, reset
from terminal.services.bootstrap import open_store
from terminal.store import outbox
from terminal.store.journal import head
from tests.conftest import with_open_shift
from tests.fleet_world import TEH


@pytest.fixture
def sold(settings, clock, tmp_path):
    """A terminal that sold twice, enrolled (its fleet files and mark), closed down."""
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415

    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    pos = built.pos
    pos.sign_in("1", "1357")
    for _ in range(2):
        pos.scan(TEH)
        pos.pay_cash(10000)
    last = head(pos.db)
    pos.db.close()
    files = settings.data_dir / FLEET_FILES
    files.mkdir(parents=True)
    (files / "client.crt").write_text("certificate")
    (settings.data_dir / ENROLLED).write_text("{}")
    config = tmp_path / "pos.toml"
    config.write_text("# the terminal's configuration\n")
    return settings, config, last


def test_entries_not_at_the_fleet_refuse_a_reset(sold):
    settings, config, _last = sold
    with pytest.raises(ResetRefused, match="not at the fleet yet"):
        reset(settings, config, wipe=False, force=False)
    assert (settings.data_dir / ENROLLED).exists() and config.exists()
    assert not (settings.data_dir / "exports").exists()


def test_a_forced_re_enroll_exports_first_and_begins_a_new_epoch(sold, tmp_path):
    settings, config, last = sold
    done = reset(settings, config, wipe=False, force=True, export_to=tmp_path / "export")
    assert done.unsent == last.seq and done.mode == "re-enroll"
    exported = [json.loads(line) for line in (tmp_path / "export" / "journal.jsonl").open()]
    assert exported[-1]["seq"] == last.seq  # every entry made is in the export
    verify = subprocess.run(  # off-line, as an auditor would, with the public key alone
        [sys.executable, "verify_journal.py", "journal.jsonl", "journal-public-key.pem"],
        cwd=tmp_path / "export",
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and f"last seq {last.seq}" in verify.stdout, verify.stdout
    assert not (settings.data_dir / FLEET_FILES).exists()
    assert not (settings.data_dir / ENROLLED).exists()
    assert config.exists()  # the next first boot writes it again from the template
    _keys, db, _journal = open_store(settings)  # the records and keys stay
    try:
        now = head(db)
        assert now.epoch == last.epoch + 1 == done.epoch
        assert outbox.unsent(db) > 0  # the new entries go to the fleet once enrolled
    finally:
        db.close()


def test_a_wipe_leaves_only_the_export(sold, tmp_path):
    settings, config, _last = sold
    db = open_store(settings)[1]
    outbox.set_mark(db, head(db).seq)  # everything at the fleet
    db.close()
    done = reset(settings, config, wipe=True, force=False, export_to=tmp_path / "export")
    assert done.mode == "wipe" and done.unsent == 0
    assert not settings.database_path.exists()
    assert not settings.security.key_dir.exists()
    assert not config.exists() and not (settings.data_dir / ENROLLED).exists()
    assert (tmp_path / "export" / "journal.jsonl").exists()
