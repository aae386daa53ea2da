"""Rotating a terminal's MQTT certificate (issue 14): the agent on a thread of its own over a
real Mosquitto with mutual TLS (the fleet's ACLs), the fleet's side a paho client that
publishes the jobs and signs the request as ``pos-fleet jobs certify`` does. The key is
made on the terminal and never leaves it; a certificate that does not fit (another key,
another name, another CA, garbage, no rotation waiting) is refused and changes nothing;
one the broker refuses is undone (the old pair back, connected again)."""

from __future__ import annotations

import dataclasses
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleet import pki
from fleet.job_commands import sign_request
from terminal.core import fleet_protocol as fp
from terminal.fleet import certificate
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_jobs
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import with_open_shift
from tests.fleet import test_jobs as base
from tests.fleet.test_agent import TID, fleet_settings, wait_for

# the fixtures of the jobs' tests (a real broker, the fleet's stub, a terminal, its agent)
broker, stub, terminal, agent = base.broker, base.stub, base.terminal, base.agent
journaled, until = base.journaled, base.until


def install_job(stub, job_id: str, pem: str, rotation: str = "") -> None:
    now = stub.now()
    job = fp.Job(job_id, "install_certificate", now, now + timedelta(hours=1), rotation, pem)
    stub.publish(job_id, fp.encode(job))


def files(fleet) -> dict[str, bytes]:
    where = certificate.paths(fleet)
    return {p.name: p.read_bytes() for p in (where.cert, where.key, where.pending_key)}


def serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def request_of(terminal, stub, job_id: str = "r-1") -> fp.JobResult:
    stub.send(job_id, "rotate_certificate")
    step = until(terminal, stub, job_id, ("running",))
    assert step.progress == 50 and step.csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    return step


def diagnostics_serial(terminal, stub, job_id: str) -> str:
    stub.send(job_id, "diagnostics")
    return until(terminal, stub, job_id, ("running", "done")).data["certificate_serial"]


def test_a_rotation_makes_the_key_here_and_reconnects_with_the_new_certificate(
    terminal, stub, agent, broker
):
    pos = terminal.pos
    fleet = pos.settings.fleet
    where = certificate.paths(fleet)
    old_cert, old_key = where.cert.read_bytes(), where.key.read_bytes()
    old_serial = format(serial(where.cert), "x")
    agent(pos.settings)
    assert diagnostics_serial(terminal, stub, "d-0") == old_serial

    step = request_of(terminal, stub)
    pending = where.pending_key.read_bytes()
    assert stat.S_IMODE(os.stat(where.pending_key).st_mode) == 0o600
    csr = x509.load_pem_x509_csr(step.csr.encode())
    key = serialization.load_pem_private_key(pending, None)
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()

    issued = sign_request(broker.ca, TID, step.csr)
    install_job(stub, "c-1", pki.certificate_pem(issued).decode(), "r-1")
    done = until(terminal, stub, "c-1", ("running", "done"))
    new = format(issued.serial_number, "x")
    assert done.data == {"serial": new, "previous_serial": old_serial} and new != old_serial
    rotation = until(terminal, stub, "r-1", ("running", "done"))
    assert rotation.detail == f"certificate {new} installed by job c-1"

    # the files: the new pair in place (the waiting key moved, 0600), the old pair kept
    assert where.key.read_bytes() == pending and not where.pending_key.exists()
    assert serial(where.cert) == issued.serial_number
    assert (where.old_cert.read_bytes(), where.old_key.read_bytes()) == (old_cert, old_key)
    for path in (where.key, where.old_key):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert certificate.matches(where.cert, where.key)
    # connected with it: the connection that answers shows the new certificate
    assert diagnostics_serial(terminal, stub, "d-1") == new

    # every step journaled; no private key in any result, journal entry or message
    wait_for_journal(pos, 8)
    assert [(j["id"], j["result"]) for j in journaled(pos) if j["id"][0] in "rc"] == [
        ("r-1", "running"),
        ("c-1", "running"),
        ("r-1", "done"),
        ("c-1", "done"),
    ]
    seen = b"".join(r.result for r in fleet_jobs.all_results(pos.db))
    assert b"PRIVATE KEY" not in seen and pending not in seen
    with stub.lock:
        assert all("PRIVATE" not in fp.encode(r).decode() for _i, r in stub.results)


def wait_for_journal(pos, count: int) -> None:
    wait_for(lambda: (pos.fleet_jobs.poll(), len(journaled(pos)) >= count)[1], "journaled")


def test_a_certificate_that_does_not_fit_is_refused_and_changes_nothing(
    terminal, stub, agent, broker
):
    pos = terminal.pos
    fleet = pos.settings.fleet
    agent(pos.settings)
    install_job(stub, "c-0", pki.certificate_pem(broker.ca.certificate).decode())
    refused = until(terminal, stub, "c-0", ("refused",))
    assert refused.detail == "no key waits for a certificate (send rotate_certificate first)"

    step = request_of(terminal, stub)
    csr = x509.load_pem_x509_csr(step.csr.encode())
    before = files(fleet)
    rogue = pki.new_authority("rogue CA")
    other_key = pki.issue_with_new_key(broker.ca, TID).certificate
    other_name = pki.issue(broker.ca, _request_for(csr, "T02"))
    forged = pki.issue(rogue, csr)
    garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    cases = {
        "c-1": (pki.certificate_pem(other_key).decode(), "for another key"),
        "c-2": (pki.certificate_pem(other_name).decode(), "made out to 'T02', not to 'T01'"),
        "c-3": (pki.certificate_pem(forged).decode(), "not issued by the fleet CA"),
        "c-4": (garbage, "not a PEM certificate"),
    }
    for job_id, (pem, why) in cases.items():
        install_job(stub, job_id, pem, "r-1")
        refused = until(terminal, stub, job_id, ("refused",))
        assert why in refused.detail, refused.detail
        assert files(fleet) == before  # nothing touched, the new key still waits
    assert not certificate.paths(fleet).old_cert.exists()
    assert fleet_jobs.job(pos.db, "r-1").state == "running"  # the rotation still waits

    # and the right one still installs afterwards
    issued = sign_request(broker.ca, TID, step.csr)
    install_job(stub, "c-5", pki.certificate_pem(issued).decode(), "r-1")
    until(terminal, stub, "c-5", ("running", "done"))
    assert serial(certificate.paths(fleet).cert) == issued.serial_number


def _request_for(csr: x509.CertificateSigningRequest, name: str):
    """A request under another name for the same public key: signed by a throw-away key,
    then its public key swapped by issuing directly (the CA would sign what it is given)."""

    class Swapped:
        subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
        is_signature_valid = True

        @staticmethod
        def public_key():
            return csr.public_key()

    return Swapped()


@pytest.fixture
def bundled(settings, clock, broker, tmp_path):
    """A terminal whose CA file also trusts a second CA the broker does not know."""
    rogue = pki.new_authority("second CA")
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(broker.cafile.read_bytes() + pki.certificate_pem(rogue.certificate))
    fleet = fleet_settings(broker, ca_file=bundle)
    built = build_terminal(
        dataclasses.replace(settings, fleet=fleet), clock=clock, pin_params=FAST_TEST_PARAMS
    )
    return with_open_shift(built), rogue


def test_a_certificate_the_broker_refuses_is_undone_and_the_old_pair_used_again(
    bundled, stub, agent
):
    terminal, rogue = bundled
    pos = terminal.pos
    fleet = pos.settings.fleet
    where = certificate.paths(fleet)
    old_cert, old_key = where.cert.read_bytes(), where.key.read_bytes()
    agent(pos.settings)
    step = request_of(terminal, stub)
    forged = pki.issue(rogue, x509.load_pem_x509_csr(step.csr.encode()))
    install_job(stub, "c-1", pki.certificate_pem(forged).decode(), "r-1")
    failed = until(terminal, stub, "c-1", ("running", "failed"))
    assert "the broker refused the new certificate" in failed.detail
    assert "back in use" in failed.detail
    assert until(terminal, stub, "r-1", ("running", "failed")).detail == failed.detail
    assert (where.cert.read_bytes(), where.key.read_bytes()) == (old_cert, old_key)
    assert diagnostics_serial(terminal, stub, "d-1") == format(serial(where.cert), "x")


def test_repair_finishes_or_undoes_a_swap_cut_short(tmp_path, broker):
    cafile, certfile, _key = broker.credentials("T07")
    for name in ("client.crt", "client.key"):
        (tmp_path / name).write_bytes((certfile.parent / name).read_bytes())
    fleet = dataclasses.replace(
        fleet_settings(broker),
        ca_file=Path(cafile),
        cert_file=tmp_path / "client.crt",
        key_file=tmp_path / "client.key",
    )
    where = certificate.paths(fleet)
    old = files_of(where)
    assert not certificate.repair(fleet)  # a pair that fits: left alone

    csr = x509.load_pem_x509_csr(certificate.new_request(fleet, "T07").encode())
    issued = pki.issue(broker.ca, csr)
    checked = certificate.check(fleet, "T07", pki.certificate_pem(issued).decode(), _now())
    certificate.install(fleet, checked)
    assert certificate.matches(where.cert, where.key)

    # stopped between the two renames, the waiting key still there: the install finishes
    pending = where.key.read_bytes()
    where.pending_key.write_bytes(pending)
    where.key.write_bytes(old[1])
    assert certificate.repair(fleet)
    assert where.key.read_bytes() == pending and not where.pending_key.exists()

    # a certificate and a key that do not fit, no waiting key: the old pair comes back
    where.key.write_bytes(old[1])
    assert certificate.repair(fleet)
    assert files_of(where) == old


def files_of(where: certificate.Paths) -> tuple[bytes, bytes]:
    return where.cert.read_bytes(), where.key.read_bytes()


def _now() -> datetime:
    return datetime.now(UTC)


def test_the_fleet_signs_only_a_request_of_that_terminal_for_a_p256_key(broker):
    key = pki.new_key()
    good = pki.request(key, "T01").public_bytes(serialization.Encoding.PEM).decode()
    issued = sign_request(broker.ca, "T01", good)
    assert pki.common_name_of(issued) == "T01"
    assert issued.public_key().public_numbers() == key.public_key().public_numbers()
    p384 = pki.request(ec.generate_private_key(ec.SECP384R1()), "T01")
    tampered = good.replace(good.splitlines()[3], good.splitlines()[3][::-1])
    for pem, why in (
        (good, "names 'T01', not the terminal 'T02'"),
        (p384.public_bytes(serialization.Encoding.PEM).decode(), "not an ECDSA secp256r1 key"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "PEM"),
        (tampered, "not a PEM certificate request|signature does not verify"),
    ):
        with pytest.raises(ValueError, match=why):
            sign_request(broker.ca, "T02" if "T02" in why else "T01", pem)
