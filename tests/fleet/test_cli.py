"""``pos-fleet`` as an admin meets it, run as a process: what it shows, and bad input met
with a clear message and an exit status (2: usage or configuration, 1: not so)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fleet import pki
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.models import Entry, StockMovement
from tests.conftest import ROOT
from tests.fleet.conftest import batch


def pos_fleet(tmp_path, *args: str, config: str | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "fleet.toml"
    if config is None:
        config = (
            f'[database]\nurl = "sqlite:///{tmp_path / "fleet.db"}"\n'
            f'[pki]\ndir = "{tmp_path / "pki"}"\n'
        )
    path.write_text(config)
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args, "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def registered(tmp_path, bare):
    """T01 registered by ``pos-fleet terminal add`` (its certificate issued too)."""
    assert pos_fleet(tmp_path, "ca", "init").returncode == 0
    key = tmp_path / "journal.pem"
    key.write_bytes(bare.public_key_pem())
    added = pos_fleet(
        tmp_path, "terminal", "add", "T01", "--store", "Toko Demo", "--group", "demo",
        "--timezone", "Asia/Jakarta", "--journal-key", str(key), "--out", str(tmp_path / "tls"),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return bare


def test_terminal_add_issues_a_client_certificate_named_by_the_terminal(tmp_path, registered):
    certificate = (tmp_path / "tls" / "client.crt").read_bytes()
    cert = x509.load_pem_x509_certificate(certificate)
    assert pki.common_name_of(cert) == "T01"
    ca = pki.load_authority(tmp_path / "pki")
    cert.verify_directly_issued_by(ca.certificate)
    assert (tmp_path / "tls" / "client.key").stat().st_mode & 0o077 == 0
    key = serialization.load_pem_private_key((tmp_path / "tls" / "client.key").read_bytes(), None)
    assert key.public_key() == cert.public_key()


def test_events_show_an_alert_and_verify_finds_the_chain_whole(tmp_path, registered):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    entries = registered.add(4)
    ingest = Ingest(db)
    ingest.journal("T01", batch(entries[:2]))
    ingest.journal("T01", batch(entries[3:]))  # seq 3 missing: a gap
    events = pos_fleet(tmp_path, "events")
    assert events.returncode == 0, events.stderr
    (line,) = [line for line in events.stdout.splitlines() if "alert" in line]
    assert "T01" in line and "gap" in line and "seq 3" in line
    verify = pos_fleet(tmp_path, "verify", "T01")
    assert verify.returncode == 0 and "journal OK: 2 entries" in verify.stdout
    # an entry altered in the fleet's database is found
    Entry.update(payload_json='{"reason":"forged"}').where(Entry.seq == 2).execute(db)
    verify = pos_fleet(tmp_path, "verify", "T01")
    assert verify.returncode == 1 and "BROKEN at seq 2" in verify.stdout
    db.close()


@pytest.mark.parametrize(
    ("args", "config", "says"),
    [
        (("terminals",), '[broker]\nport = "x"\n', "broker.port: Expected `int`"),
        (("terminals",), '[databse]\nurl = "x"\n', "unknown field `databse`"),
        (("terminals",), '[database]\nurl = "mysql://x"\n', "not a fleet database URL"),
        (("verify", "T09"), None, "T09: not a registered terminal"),
        (("sales", "--day", "27-11-2026"), None, "invalid fromisoformat value"),
    ],
)
def test_bad_input_is_met_with_a_clear_message(tmp_path, args, config, says):
    result = pos_fleet(tmp_path, *args, config=config)
    assert result.returncode in (1, 2)
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_journal_key_is_refused_and_nothing_registered(tmp_path):
    key = tmp_path / "journal.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    result = pos_fleet(
        tmp_path, "terminal", "add", "T01", "--store", "S", "--group", "G",
        "--journal-key", str(key),
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "key" in result.stderr.lower()
    terminals = pos_fleet(tmp_path, "terminals")
    assert "T01" not in terminals.stdout


def test_stock_backfill_fills_the_ledger_of_an_upgraded_fleet(tmp_path, registered):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    line = {"sku": "TEH-BTL", "quantity": "2", "unit_price": 5500, "amount": 11000}
    for number in (1, 2, 3):
        registered.at += timedelta(seconds=30)
        sale = {"number": number, "total": 11000, "lines": [line], "tenders": []}
        registered.journal.append("sale", sale, registered.at)
    Ingest(db).journal("T01", batch(registered.entries()))
    StockMovement.delete().execute(db)  # as a fleet from before the ledger holds them
    done = pos_fleet(tmp_path, "stock", "backfill")
    assert done.returncode == 0, done.stderr
    assert "movements made for 3 sales and 0 refunds" in done.stdout
    sold = StockMovement.select().where(StockMovement.kind == "sale").bind(db)
    assert [m.quantity for m in sold] == [-2000] * 3
    again = pos_fleet(tmp_path, "stock", "backfill")
    assert "for 0 sales" in again.stdout
