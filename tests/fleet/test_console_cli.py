"""``pos-fleet account`` and ``pos-fleet console`` as an admin runs them, as processes: a
password is asked (or read from stdin), refused when weak, never printed; the list shows
roles and stores and no secret; the console answers over HTTP, and over HTTPS with its
own certificate."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleet import pki
from fleet.console import accounts
from fleet.db import connect, create_tables
from fleet.models import ConsoleAccount, ConsoleAudit
from tests.conftest import ROOT

GOOD = "kopi-susu-gula-aren-7"
OTHER = "nasi-goreng-pedas-42"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "fleet.db"}"\n{extra}')
    return path


def pos_fleet(tmp_path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    config = tmp_path / "fleet.toml"
    if not config.exists():
        write_config(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args, "--config", str(config)],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal: getpass reads stdin, not /dev/tty
    )


def db_of(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    return db


def account(tmp_path, name: str) -> ConsoleAccount | None:
    db = db_of(tmp_path)
    try:
        return accounts.get_account(db, name)
    finally:
        db.close()


def test_an_account_is_added_listed_given_a_new_password_and_disabled(tmp_path):
    added = pos_fleet(
        tmp_path, "account", "add", "ani", "--role", "manager",
        "--stores", "Toko Sumber Rejeki,Warung Berkah Abadi", "--language", "id", "--stdin",
        stdin=GOOD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert GOOD not in added.stdout + added.stderr
    admin = pos_fleet(tmp_path, "account", "add", "root", "--role", "admin", "--stdin", stdin=OTHER)
    assert admin.returncode == 0, admin.stdout + admin.stderr
    row = account(tmp_path, "ani")
    assert (row.role, row.language, row.disabled) == ("manager", "id", False)
    assert accounts.account_stores(row) == {"Toko Sumber Rejeki", "Warung Berkah Abadi"}
    assert row.password_hash.startswith("$argon2id$")
    assert accounts.password_matches(GOOD, row.password_hash)

    listed = pos_fleet(tmp_path, "account", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[1]: line for line in listed.stdout.splitlines() if "│" in line[:2]}
    assert "manager" in lines["ani"] and "Toko Sumber Rejeki, Warung Berkah Abadi" in lines["ani"]
    assert "admin" in lines["root"] and "all" in lines["root"]
    assert "$argon2" not in listed.stdout and GOOD not in listed.stdout

    changed = pos_fleet(tmp_path, "account", "passwd", "ani", "--stdin", stdin=OTHER + "\n")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert OTHER not in changed.stdout + changed.stderr
    row = account(tmp_path, "ani")
    assert accounts.password_matches(OTHER, row.password_hash)
    assert not accounts.password_matches(GOOD, row.password_hash)

    db = db_of(tmp_path)
    now = datetime.now(UTC).replace(tzinfo=None)
    signed = accounts.sign_in(db, "ani", OTHER, "192.0.2.1", now, cost=accounts.FAST_TEST_COST)
    assert signed.token and accounts.session_for(db, signed.token, now) is not None
    disabled = pos_fleet(tmp_path, "account", "disable", "ani")
    assert disabled.returncode == 0, disabled.stderr
    assert account(tmp_path, "ani").disabled
    assert accounts.session_for(db, signed.token, now) is None  # its session ended
    refused = accounts.sign_in(db, "ani", OTHER, "192.0.2.2", now, cost=accounts.FAST_TEST_COST)
    assert refused.token is None
    listed = pos_fleet(tmp_path, "account", "list")
    assert "disabled" in next(line for line in listed.stdout.splitlines() if " ani " in line)
    actions = [
        (a.action, a.detail) for a in ConsoleAudit.select().order_by(ConsoleAudit.id).bind(db)
    ]
    assert ("password changed", "ani") in actions and ("account disabled", "ani") in actions
    assert all(
        a.account.startswith("cli:") for a in ConsoleAudit.select().bind(db) if a.address == "cli"
    )
    db.close()


@pytest.mark.parametrize(
    "password", ["short-one", "aaaaaaaaaaaaaaaa", ""], ids=["short", "few-characters", "empty"]
)
def test_a_weak_password_is_refused_and_no_account_is_made(tmp_path, password):
    done = pos_fleet(
        tmp_path, "account", "add", "budi", "--role", "owner", "--stdin", stdin=password + "\n"
    )
    assert done.returncode == 1
    assert "nothing changed" in done.stdout
    assert (password not in done.stdout + done.stderr) if password else True
    assert account(tmp_path, "budi") is None


def test_the_password_is_asked_twice_and_must_match(tmp_path):
    """Without a terminal, getpass reads the lines from stdin (and echoes nothing of them)."""
    differ = pos_fleet(
        tmp_path, "account", "add", "citra", "--role", "auditor", stdin=f"{GOOD}\n{OTHER}\n"
    )
    assert differ.returncode == 1 and "differ" in differ.stdout
    assert account(tmp_path, "citra") is None
    same = pos_fleet(
        tmp_path, "account", "add", "citra", "--role", "auditor", stdin=f"{GOOD}\n{GOOD}\n"
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert GOOD not in same.stdout + same.stderr
    assert accounts.password_matches(GOOD, account(tmp_path, "citra").password_hash)


def test_refusals_name_what_is_wrong(tmp_path):
    manager = pos_fleet(
        tmp_path, "account", "add", "dedi", "--role", "manager", "--stdin", stdin=GOOD
    )
    assert manager.returncode == 1 and "--stores" in manager.stdout
    role = pos_fleet(tmp_path, "account", "add", "dedi", "--role", "boss", "--stdin", stdin=GOOD)
    assert role.returncode == 2 and "invalid choice" in role.stderr
    assert pos_fleet(tmp_path, "account", "passwd", "nobody", "--stdin", stdin=GOOD).returncode == 1
    assert pos_fleet(tmp_path, "account", "disable", "nobody").returncode == 1
    first = pos_fleet(tmp_path, "account", "add", "eko", "--role", "owner", "--stdin", stdin=GOOD)
    assert first.returncode == 0
    again = pos_fleet(tmp_path, "account", "add", "eko", "--role", "owner", "--stdin", stdin=GOOD)
    assert again.returncode == 1 and "exists" in again.stdout


def test_totp_prints_the_otpauth_uri_once_and_the_list_never(tmp_path):
    added = pos_fleet(tmp_path, "account", "add", "fitri", "--role", "owner", "--stdin", stdin=GOOD)
    assert added.returncode == 0, added.stdout + added.stderr
    done = pos_fleet(tmp_path, "account", "totp", "fitri")
    assert done.returncode == 0, done.stderr
    uri = next(line for line in done.stdout.splitlines() if line.startswith("otpauth://"))
    secret = account(tmp_path, "fitri").totp_secret
    assert secret and f"secret={secret}" in uri
    listed = pos_fleet(tmp_path, "account", "list")
    assert secret not in listed.stdout and "TOTP" in listed.stdout


# -- the console as a process ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(tmp_path, extra: str):
    port = free_port()
    config = write_config(tmp_path, f'[console]\nhost = "127.0.0.1"\nport = {port}\n{extra}')
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "console", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return process, port


def fetch(url: str, context: ssl.SSLContext | None = None, deadline: float = 20.0):
    """GET ``url`` once the server answers (polled)."""
    stop = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return response.status, response.read().decode()
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > stop:
                raise
            time.sleep(0.2)


def stop(process) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def test_the_console_answers_login_over_http_and_says_to_put_tls_in_front(tmp_path):
    process, port = serve(tmp_path, "secure_cookies = false\n")
    try:
        status, body = fetch(f"http://127.0.0.1:{port}/login")
        assert status == 200
        assert "<form" in body and 'name="password"' in body
    finally:
        out = stop(process)
    # uvicorn shuts down cleanly, then lets the signal end the process (as systemd expects)
    assert process.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out
    assert "plain HTTP" in out and "TLS" in out and "demo" in out


def test_the_console_serves_https_itself_with_a_certificate(tmp_path):
    ca = pki.new_authority("test CA")
    issued = pki.issue_with_new_key(ca, "localhost", server_names=("localhost", "127.0.0.1"))
    (tmp_path / "console.crt").write_bytes(pki.certificate_pem(issued.certificate))
    pki.write_private(tmp_path / "console.key", pki.key_pem(issued.key))
    (tmp_path / "ca.crt").write_bytes(pki.certificate_pem(ca.certificate))
    process, port = serve(
        tmp_path,
        f'cert_file = "{tmp_path / "console.crt"}"\nkey_file = "{tmp_path / "console.key"}"\n',
    )
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        status, body = fetch(f"https://127.0.0.1:{port}/login", context)
        assert status == 200 and "<form" in body
    finally:
        out = stop(process)
    assert "plain HTTP" not in out


def test_a_half_tls_configuration_is_refused_before_serving(tmp_path):
    write_config(tmp_path, f'[console]\ncert_file = "{tmp_path / "x.crt"}"\n')
    done = pos_fleet(tmp_path, "console")
    assert done.returncode == 2 and "both, or neither" in done.stderr
