"""The fleet's answer to a terminal that enrolls (fleet/enrollment.py), on SQLite and
PostgreSQL: a token certifies one key once, before it expires; the same key asking again
gets the same certificate, never a second one; everything else is refused with its reason
and changes nothing."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta

import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID

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
    assert row.used_at == NOW
    assert token not in repr(row.__data__)  # only its hash is kept, in no column the token


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
        ("two names", "bad request", "not made out to T07 alone"),
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
    elif change == "two names":
        key = pki.new_key()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "T07"),
                x509.NameAttribute(NameOID.COMMON_NAME, "fleet-ingest"),
            ]
        )
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, SHA256())
        request = ep.decode("enroll-req", asking(token)[1])
        request = msgspec.structs.replace(
            request, csr=csr.public_bytes(serialization.Encoding.PEM).decode()
        )
        request_id, payload = request.request, ep.encode(request)
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
    fleet_db, pki_dir, tmp_path, clock, monkeypatch
):
    """The registration is made slow, so both answers would be inside it at once without
    the token's lock (SQLite's write transaction; PostgreSQL's row lock)."""
    import fleet.enrollment as enrollment  # noqa: PLC0415

    slow = enrollment.register_terminal

    def register_slowly(*args, **kwargs):
        time.sleep(0.3)
        return slow(*args, **kwargs)

    monkeypatch.setattr(enrollment, "register_terminal", register_slowly)
    token = token_for(fleet_db)
    results: list[str] = []
    keys = [pki.new_key(), pki.new_key()]
    start = threading.Barrier(2)

    def device(key) -> None:
        enroller = Enroller(fleet_db, pki_dir, tmp_path / "none", clock=clock)
        request = asking(token, key=key)
        start.wait()
        results.append(enroller.answer(*request).answer.result)

    threads = [threading.Thread(target=device, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["enrolled", "refused"]
    assert TerminalKey.select().where(TerminalKey.terminal_id == "T07").bind(fleet_db).count() == 1
    row = EnrollmentToken.select().bind(fleet_db).get()
    (issued, _ca) = x509.load_pem_x509_certificates(row.certificate.encode())
    assert issued.public_key() in [k.public_key() for k in keys]


def test_a_token_names_a_store_and_a_sane_validity(fleet_db):
    with pytest.raises(ValueError, match="names the store"):
        make_token(fleet_db, "T07", store=" ", now=NOW)
    with pytest.raises(ValueError, match="5 minutes to 30 days"):
        make_token(fleet_db, "T07", store="S1", now=NOW, valid=timedelta(days=31))
    for name in ("T 07", "fleet-ingest", "t07", "T0000007X"):  # never a service's name
        with pytest.raises(ValueError, match="not a terminal id"):
            make_token(fleet_db, name, store="S1", now=NOW)
    with pytest.raises(ValueError, match="printable"):
        make_token(fleet_db, "T07", store='Shop\nbootcmd: [[sh, -c, "id"]]', now=NOW)
    with pytest.raises(ValueError, match="not a time zone"):
        make_token(fleet_db, "T07", store="S1", timezone="Mars/Base", now=NOW)
    assert not EnrollmentToken.select().bind(fleet_db).exists()


def test_what_is_pushed_before_the_first_terminal_reaches_it_when_it_enrolls(
    fleet_db, pki_dir, tmp_path, clock
):
    """An empty fleet: its document and a new store's group's (a token names the group)
    are signed and released at once; a group no token names is still refused (a typo);
    the first terminal to enroll gets both in its answer and its first bundle."""
    from datetime import UTC  # noqa: PLC0415

    from fleet import rollout as rollouts  # noqa: PLC0415
    from fleet import signing  # noqa: PLC0415

    signing.init(tmp_path / "root", tmp_path / "signing", datetime.now(UTC) - timedelta(minutes=1))
    token = make_token(
        fleet_db, "T07", store="S1", group="north", now=datetime.now(UTC).replace(tzinfo=None)
    ).token
    for scope in ("fleet", "group:north"):
        planned = rollouts.sign_and_plan(
            fleet_db, tmp_path / "signing", {"products": []}, sc.parse_scope(scope), waves=[100]
        )
        assert planned.rollout.state == "done" and planned.waves == []
    with pytest.raises(rollouts.RolloutError, match="nor a token"):
        rollouts.sign_and_plan(
            fleet_db, tmp_path / "signing", {}, sc.parse_scope("group:west"), waves=[100]
        )
    enroller = Enroller(fleet_db, pki_dir, tmp_path / "signing", clock=clock)
    clock.now = datetime.now(UTC).replace(tzinfo=None)
    answered = enroller.answer(*asking(token))
    assert answered.answer.result == "enrolled" and len(answered.answer.documents) == 2
    assert answered.bundle is not None and len(answered.bundle.documents) == 2
    assert answered.answer.config_root_key.startswith("-----BEGIN PUBLIC KEY-----")
