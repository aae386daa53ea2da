"""The fleet's answer to a terminal that enrolls (fleet/enrollment.py), on SQLite and
PostgreSQL: a token certifies one key once, before it expires; the same key asking again
gets the same certificate, never a second one; everything else is refused with its reason
and changes nothing."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import pki
from fleet.enrollment import Enroller, make_token
from fleet.models import EnrollmentToken, Terminal, TerminalKey
from terminal.core import enrollment_protocol as ep
from terminal.core import signed_config as sc

NOW = datetime(2026, 11, 27, 8, 0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def pki_dir(tmp_path):
    ca = pki.new_authority("test fleet CA")
    pki.save_authority(ca, tmp_path / "pki")
    return tmp_path / "pki"


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def enroller(fleet_db, pki_dir, tmp_path, clock):
    return Enroller(fleet_db, pki_dir, tmp_path / "no-signing", clock=clock)


def asking(token: str, terminal_id: str = "T07", key=None, **changes) -> tuple[str, bytes]:
    key = key or pki.new_key()
    request = ep.EnrollRequest(
        request=secrets.token_hex(16),
        token=token,
        csr=pki.request(key, terminal_id).public_bytes(serialization.Encoding.PEM).decode(),
        journal_key=sc.public_pem(Ed25519PrivateKey.generate().public_key()),
        **changes,
    )
    return request.request, ep.encode(request)


def token_for(db, terminal_id: str = "T07", valid: timedelta = timedelta(hours=1)) -> str:
    return make_token(
        db, terminal_id, store="S1", group="north", timezone="Asia/Jakarta", now=NOW, valid=valid
    ).token


def test_a_token_certifies_its_terminal_and_registers_its_journal_key(enroller, fleet_db, pki_dir):
    token = token_for(fleet_db)
    key = pki.new_key()
    answered = enroller.answer(*asking(token, key=key))
    answer = answered.answer
    assert (answer.result, answer.terminal_id, answer.store, answer.group) == (
        "enrolled",
        "T07",
        "S1",
        "north",
    )
    mine, issuer = x509.load_pem_x509_certificates(answer.certificate.encode())
    assert mine.public_key() == key.public_key()
    assert pki.common_name_of(mine) == "T07"
    assert issuer == pki.load_authority(pki_dir).certificate
    assert answer.ca == (pki_dir / "ca.crt").read_text()
    terminal = Terminal.select().where(Terminal.id == "T07").bind(fleet_db).get()
    assert (terminal.store, terminal.group, terminal.timezone) == ("S1", "north", "Asia/Jakarta")
    assert TerminalKey.select().where(TerminalKey.terminal_id == "T07").bind(fleet_db).count() == 1
    row = EnrollmentToken.select().bind(fleet_db).get()
    assert row.used_at == NOW and token not in row.token_hash  # only its hash is kept


def test_the_same_key_again_gets_the_same_certificate_another_key_is_refused(enroller, fleet_db):
    token = token_for(fleet_db)
    key = pki.new_key()
    first = enroller.answer(*asking(token, key=key)).answer
    again = enroller.answer(*asking(token, key=key)).answer  # the answer was lost: a retry
    assert again.result == "enrolled" and again.certificate == first.certificate
    other = enroller.answer(*asking(token)).answer
    assert (other.result, other.reason) == ("refused", "token used")
    assert "another device" in other.message
    assert EnrollmentToken.select().bind(fleet_db).get().certificate == first.certificate


def test_a_token_is_good_until_it_expires_to_the_second(enroller, fleet_db, clock):
    token = token_for(fleet_db, valid=timedelta(hours=1))
    clock.now = NOW + timedelta(hours=1)
    late = enroller.answer(*asking(token)).answer
    assert (late.result, late.reason) == ("refused", "token expired")
    clock.now = NOW + timedelta(hours=1) - timedelta(seconds=1)
    assert enroller.answer(*asking(token)).answer.result == "enrolled"


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ("unknown", "unknown token", "does not know this enrollment token"),
        ("other terminal", "bad request", "not made out to T07"),
        ("rsa key", "bad request", "not for an ECDSA P-256 key"),
        ("journal key", "bad request", "not an Ed25519 public key"),
        ("garbage", "bad request", "malformed"),
        ("request id", "bad request", "another request id"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(enroller, fleet_db, change, reason, words):
    token = token_for(fleet_db)
    if change == "unknown":
        request_id, payload = asking("x" * 32)
    elif change == "other terminal":
        request_id, payload = asking(token, terminal_id="T01")
    elif change == "rsa key":
        from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

        request_id, payload = asking(token, key=rsa.generate_private_key(65537, 2048))
    elif change == "journal key":
        request_id, payload = asking(token)
        payload = payload.replace(b"MCowBQYDK2VwAyEA", b"MCowBQYDK2VuAyEA")  # X25519's OID
    elif change == "garbage":
        request_id, payload = secrets.token_hex(16), b'{"request": 1, "token": [}'
    else:
        _request_id, payload = asking(token)
        request_id = secrets.token_hex(16)
    answer = enroller.answer(request_id, payload).answer
    assert (answer.result, answer.reason) == ("refused", reason)
    assert words in answer.message
    assert EnrollmentToken.select().bind(fleet_db).get().used_at is None
    assert not Terminal.select().bind(fleet_db).exists()


def test_an_issuing_ca_locked_by_its_passphrase_refuses_without_using_the_token(
    fleet_db, tmp_path, clock
):
    ca = pki.new_authority("locked CA")
    pki.save_authority(ca, tmp_path / "locked", b"a long passphrase here")
    enroller = Enroller(fleet_db, tmp_path / "locked", tmp_path / "none", clock=clock)
    token = token_for(fleet_db)
    answer = enroller.answer(*asking(token)).answer
    assert (answer.result, answer.reason) == ("refused", "not available")
    assert EnrollmentToken.select().bind(fleet_db).get().used_at is None
    opened = Enroller(
        fleet_db,
        tmp_path / "locked",
        tmp_path / "none",
        clock=clock,
        passphrase=lambda: b"a long passphrase here",
    )
    assert opened.answer(*asking(token)).answer.result == "enrolled"


def test_two_devices_with_one_token_at_the_same_moment_get_one_certificate(
    fleet_db, pki_dir, tmp_path, clock
):
    token = token_for(fleet_db)
    results: list[str] = []
    start = threading.Barrier(2)

    def device() -> None:
        enroller = Enroller(fleet_db, pki_dir, tmp_path / "none", clock=clock)
        request = asking(token)
        start.wait()
        results.append(enroller.answer(*request).answer.result)

    threads = [threading.Thread(target=device) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["enrolled", "refused"]


def test_a_token_names_a_store_and_a_sane_validity(fleet_db):
    with pytest.raises(ValueError, match="names the store"):
        make_token(fleet_db, "T07", store=" ", now=NOW)
    with pytest.raises(ValueError, match="5 minutes to 30 days"):
        make_token(fleet_db, "T07", store="S1", now=NOW, valid=timedelta(days=31))
    with pytest.raises(ValueError, match="not a terminal id"):
        make_token(fleet_db, "T 07", store="S1", now=NOW)
    with pytest.raises(ValueError, match="not a time zone"):
        make_token(fleet_db, "T07", store="S1", timezone="Mars/Base", now=NOW)
    assert not EnrollmentToken.select().bind(fleet_db).exists()
