"""Drain: a terminal back online with 10,000 unsent journal entries; the time until the
fleet holds them all and the terminal's agent has their acknowledgement.

The terminal's database is made by the terminal's own code and holds 10,000 signed sale
entries (the payload of a real sale, numbered on) that the fleet never received: the
agent (``pos-terminal agent``, its own process) was stopped, the shop offline. The agent
starts again and connects; timed from its start until its stored mark reaches the
journal's head (the fleet acknowledges only what it committed). The ingest is
``pos-fleet serve`` on SQLite.

Baseline, in the same run: the same 10,000 entries, in the same batches, published by a
bare paho client and counted by a bare subscriber through the same broker (the transport
alone). Goal (issue 13): under 10 s.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet_ingest import bare_subscriber
from bench.fleet_sim import Publisher, SimTerminal, real_sale
from terminal.store import outbox
from tests.fleet_world import World, held, wait_for
from tests.mosquitto import start_broker

QUICK = os.environ.get("BENCH_QUICK") == "1"
ENTRIES = 1000 if QUICK else 10_000


def offline_entries(shop, count: int) -> None:
    sale = real_sale()
    pos = shop.pos
    with pos.db.atomic():
        for n in range(count):
            sale["number"] = 1000 + n
            pos.journal.append("sale", sale, pos.clock(), sale["total"])


def bare_run(broker) -> float:
    """Seconds to publish ENTRIES signed sale entries in batches of 200 and see them all
    at a counting subscriber: the transport alone."""
    sim = SimTerminal("D00")
    sim.sell(real_sale(), ENTRIES)
    batches = sim.unsent_batches(200)
    client, done = bare_subscriber(broker, ENTRIES)
    link = Publisher(broker, "D00")
    start = time.perf_counter()
    link.publish(batches)
    if not done.wait(120):
        raise RuntimeError("the bare subscriber did not see every entry")
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    link.close()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker = start_broker(tmp / "broker")
        world = World(tmp, broker, f"sqlite:///{tmp / 'fleet.db'}")
        try:
            # first, before the ingest has a session on the broker to queue for
            bare = bare_run(broker)
            shop = world.shop("D01")
            world.serve()
            agent = shop.start_agent()
            shop.sell(1)
            wait_for(lambda: outbox.mark(shop.pos.db) >= shop.head(), "the first sale sent")
            agent.send_signal(signal.SIGTERM)  # the shop goes offline ...
            agent.wait(30)
            offline_entries(shop, ENTRIES)  # ... and sells on
            target = shop.head()
            print(
                f"{outbox.unsent(shop.pos.db):,} unsent journal entries (signed sales), "
                "batches of 200"
            )
            print(f"bare publish to a counting subscriber: {bare:6.2f} s")
            start = time.perf_counter()  # back online: the agent starts and connects
            shop.start_agent()
            wait_for(lambda: outbox.mark(shop.pos.db) >= target, "the drain", 300)
            drain = time.perf_counter() - start
            db = world.db()
            assert held(db, "D01") >= target
            db.close()
            print(f"drain to the fleet, acknowledged:      {drain:6.2f} s (goal < 10 s)")
            print(f"ratio drain / bare: {drain / bare:.2f}x")
        finally:
            world.close()
            broker.stop()


if __name__ == "__main__":
    main()
