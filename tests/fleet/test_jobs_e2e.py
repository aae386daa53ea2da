"""Jobs from an admin reach a real terminal: `pos-fleet jobs send|status` and `pos-fleet
serve` as processes, the terminal's agent as a process, the terminal's own services
running what the agent handed over, a real Mosquitto with mutual TLS. A lock sent during
a sale waits for its end, then blocks the next scan; the fleet shows each answer. A
certificate rotation goes from the admin's commands to the terminal's files and back."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from fleet.config import ConsoleSettings, load_config
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.models import JobProgress, JobTarget
from terminal.fleet import certificate
from terminal.services.fleet_jobs import FleetLocked
from tests.conftest import ROOT
from tests.fleet.console_client import csrf_of, signed_in
from tests.fleet_world import World, fleet_toml, wait_for
from tests.mosquitto import start_broker

FAST = accounts.FAST_TEST_COST
TEH = "8991002101111"  # Teh Botol Sosro, Rp 5.500 in the demo shop


@pytest.fixture
def world(tmp_path):
    broker = start_broker(tmp_path / "broker")
    world = World(tmp_path, broker, f"sqlite:///{tmp_path / 'fleet.db'}")
    yield world
    world.close()
    broker.stop()


def answered(world, shop, job_id: str, state: str) -> None:
    """Polls the terminal's side (as the app's clock does) until the fleet holds it."""

    def seen():
        shop.pos.fleet_jobs.poll()
        db = world.db()
        try:
            row = JobTarget.select().where(JobTarget.job == job_id).bind(db).first()
            return row is not None and row.state == state
        finally:
            db.close()

    wait_for(seen, f"{job_id} {state} at the fleet")


def test_a_lock_sent_during_a_sale_waits_for_its_end_and_the_fleet_sees_it(world):
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    pos = shop.pos
    pos.scan(TEH)  # a sale in progress
    sent = world.fleet("jobs", "send", "lock", "--group", "north", "--text", "audit", "--id", "l-1")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    answered(world, shop, "l-1", "accepted")
    pos.scan(TEH)  # the sale goes on
    pos.pay_cash(20000)
    answered(world, shop, "l-1", "done")
    with pytest.raises(FleetLocked, match="Locked by the fleet: audit"):
        pos.scan(TEH)

    status = world.fleet("jobs", "status", "l-1")
    assert status.returncode == 0, status.stderr
    (row,) = [line for line in status.stdout.splitlines() if "│ T01" in line]
    assert "done" in row and "locked" in row

    assert world.fleet("jobs", "send", "unlock", "--terminal", "T01", "--id", "u-1").returncode == 0
    answered(world, shop, "u-1", "done")
    pos.scan(TEH)
    assert len(pos.cart.lines) == 1


def fleet_with_pki(world, *args: str) -> subprocess.CompletedProcess:
    """``pos-fleet`` as a process, with ``[pki] dir`` the broker's CA (what certifies: every
    configuration of fleet_toml names it)."""
    config = fleet_toml(
        world.tmp / "cli-pki.toml", db_url=world.db_url, broker=world.broker, client_id="cli-pki"
    )
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args, "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def target(world, job_id: str) -> JobTarget | None:
    db = world.db()
    try:
        return JobTarget.select().where(JobTarget.job == job_id).bind(db).first()
    finally:
        db.close()


def progress(world, job_id: str) -> JobProgress | None:
    db = world.db()
    try:
        return JobProgress.select().where(JobProgress.job == job_id).bind(db).first()
    finally:
        db.close()


def test_a_certificate_rotation_from_the_admin_to_the_terminal_and_back(world):
    """`jobs send rotate_certificate` (no wait): the fleet shows the request running at
    50%; `jobs certify` signs it and sends the certificate; the terminal's agent (a
    process) swaps its files and reconnects with it; both jobs end done, and the agent
    answers the next job over the new certificate."""
    shop = world.shop("T01", group="north")
    fleet = shop.pos.settings.fleet
    where = certificate.paths(fleet)
    old_cert, old_key = where.cert.read_bytes(), where.key.read_bytes()
    old_serial = certificate.serial_of(where.cert)
    world.serve()
    shop.start_agent()
    sent = fleet_with_pki(
        world, "jobs", "send", "rotate_certificate", "--terminal", "T01", "--id", "r-1",
        "--wait", "0",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "no certificate request yet from T01" in sent.stdout
    wait_for(lambda: (progress(world, "r-1") or JobProgress()).csr, "the request at the fleet")
    assert (target(world, "r-1").state, progress(world, "r-1").progress) == ("running", 50)
    status = world.fleet("jobs", "status", "r-1")
    (row,) = [line for line in status.stdout.splitlines() if "│ T01" in line]
    assert "running 50%" in row and "received" in status.stdout  # (the request)
    assert where.pending_key.exists() and where.cert.read_bytes() == old_cert

    certified = fleet_with_pki(world, "jobs", "certify", "r-1")
    assert certified.returncode == 0, certified.stdout + certified.stderr
    step = progress(world, "r-1")
    assert f"T01: certificate {step.serial} sent as job {step.certificate_job}" in (
        certified.stdout.replace("\n", " ")
    )
    wait_for(lambda: target(world, "r-1").state == "done", "the rotation done at the fleet")
    # (the install job's own answer is a message of its own: it may come a moment later)
    wait_for(
        lambda: target(world, step.certificate_job).state in ("done", "failed", "refused"),
        "the install job's answer at the fleet",
    )
    install = target(world, step.certificate_job)
    assert install.state == "done", install.detail
    assert json.loads(install.data_json) == {"serial": step.serial, "previous_serial": old_serial}
    assert progress(world, step.certificate_job).progress == 60  # its last step, seen

    # the terminal's files: the new pair (a new serial), the old one kept beside it
    assert certificate.serial_of(where.cert) == step.serial != old_serial
    assert certificate.matches(where.cert, where.key) and where.key.read_bytes() != old_key
    assert (where.old_cert.read_bytes(), where.old_key.read_bytes()) == (old_cert, old_key)
    assert not where.pending_key.exists()

    # the agent answers over the new certificate
    out = world.fleet("jobs", "send", "diagnostics", "--terminal", "T01", "--id", "d-1")
    assert out.returncode == 0, out.stdout + out.stderr
    wait_for(lambda: target(world, "d-1").state == "done", "diagnostics")
    assert json.loads(target(world, "d-1").data_json)["certificate_serial"] == step.serial

    again = fleet_with_pki(world, "jobs", "certify", "r-1")  # signed once only
    assert again.returncode == 0 and "sent as job" not in again.stdout


def test_a_count_opened_in_the_console_reaches_the_terminal_and_its_list_the_review(world):
    """Stocktake over the real path: the console (with the fleet's broker) opens a count;
    the job reaches the terminal's agent, the app keeps the count open; a supervisor
    counts blind; the journal goes to `pos-fleet serve`; the review shows the list; the
    count's close reaches the terminal too."""
    shop = world.shop("T01", group="north")
    world.serve()
    shop.start_agent()
    db = world.db()
    accounts.add_account(
        db, "oki", "owner", "a long pass phrase", datetime(2026, 11, 23), cost=FAST
    )
    world.fleet("jobs", "status")  # writes the CLI's fleet.toml (the console uses its broker)
    config = load_config(world.tmp / "cli.toml")
    app = create_app(db, ConsoleSettings(), cost=FAST, fleet=config)
    owner = signed_in(app, "oki", "a long pass phrase", https=True, follow_redirects=False)
    token = csrf_of(owner.get("/stock/counts").text)
    opened = owner.post("/stock/counts/open", data={"csrf": token, "store": "S1"})
    assert opened.status_code == 303, opened.text  # every terminal of S1 told
    answered(world, shop, "C1-open-T01", "done")
    assert [c.id for c in shop.pos.stocktake.open_counts()] == ["C1"]

    shop.pos.sign_in("2", "2580")
    shop.pos.stocktake.count("C1", [(TEH, "7")])

    def counted():
        return 'data-adjustment="7000"' in owner.get("/stock/counts/C1").text

    wait_for(counted, "the count's list in the review")  # 7 counted, none on the books
    closed = owner.post("/stock/counts/C1/close", data={"csrf": token})
    assert closed.status_code == 303
    answered(world, shop, "C1-close-T01", "done")
    assert shop.pos.stocktake.open_counts() == []
    db.close()
