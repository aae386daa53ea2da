"""Jobs from an admin reach a real terminal: `pos-fleet jobs send|status` and `pos-fleet
serve` as processes, the terminal's agent as a process, the terminal's own services
running what the agent handed over, a real Mosquitto with mutual TLS. A lock sent during
a sale waits for its end, then blocks the next scan; the fleet shows each answer."""

from __future__ import annotations

import pytest

from fleet.models import JobTarget
from terminal.services.fleet_jobs import FleetLocked
from tests.fleet_world import World, wait_for
from tests.mosquitto import start_broker

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
