"""Presence: many terminals connected to one broker, each selling now and then; the time
from a sale's COMMIT on the terminal to its COMMIT in the fleet database.

1,000 simulated terminals (bench/fleet_sim.py: real signed journal entries, each its own
client certificate and TLS connection, as the agent connects; spread over 5 processes)
stay connected to one Mosquitto; each sells once every 10 s at its own phase and, as
the agent does, looks for new journal entries every 0.2 s and publishes them (QoS 1).
One ``pos-fleet serve`` stores them into SQLite. For each sale: COMMIT on the terminal
(its clock) to the entry's ``stored_at`` in the fleet database (written inside the
ingest's transaction).

Baseline, in the same run: the same terminals and sales with a bare subscriber in the
ingest's place that only notes when each batch arrives (no verification, no database).
Goal (issue 13): p99 under 1 s.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.fleet_sim import Publisher, SimTerminal, bare_client, public_pem, real_sale
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.models import Entry
from fleet.registry import register_terminal
from fleet.server import BrokerSettings, IngestServer
from terminal.core import fleet_protocol as fp
from tests.mosquitto import start_broker

QUICK = os.environ.get("BENCH_QUICK") == "1"
TERMINALS = 20 if QUICK else 1000
INTERVAL = 10.0  # seconds between two sales of one terminal
DURATION = 1.5 if QUICK else 40.0  # seconds of selling
SETTLE = 0.5 if QUICK else 2.0  # for the last publishes to leave and arrive
POLL = 0.2  # the agent's look at the journal
PROCESSES = 2 if QUICK else 5  # the terminals' processes
CONNECT_SECONDS = 3 if QUICK else 120  # for every terminal to connect before selling


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def shop_worker(endpoint: Endpoint, terminals: list, start_at: float, results) -> None:
    """One process's share of the terminals (paho's loop selects on descriptors below
    1024: a few hundred clients per process): connect, sell and publish as the agent
    does, then report each sale's COMMIT time."""
    sale = real_sale()
    sims, links = [], []
    for terminal_id, seed, credentials in terminals:
        sims.append(SimTerminal(terminal_id, Ed25519PrivateKey.from_private_bytes(seed)))
        links.append(Publisher(endpoint, terminal_id, credentials=credentials))
    rng = random.Random(terminals[0][0])
    while time.time() < start_at:
        time.sleep(0.01)
    next_sale = {t.terminal_id: start_at + rng.uniform(0, INTERVAL) for t in sims}
    next_poll = {t.terminal_id: start_at + rng.uniform(0, POLL) for t in sims}
    committed = {}
    while time.time() < start_at + DURATION:
        now = time.time()
        for terminal, link in zip(sims, links, strict=True):
            tid = terminal.terminal_id
            if now >= next_sale[tid]:
                terminal.sell(sale)
                committed[(tid, terminal.journal_head())] = time.time()
                next_sale[tid] += INTERVAL
            if now >= next_poll[tid]:
                link.publish(terminal.unsent_batches())
                next_poll[tid] += POLL
        time.sleep(0.005)
    for terminal, link in zip(sims, links, strict=True):  # the agent's next look
        link.publish(terminal.unsent_batches())
    time.sleep(SETTLE)  # the last publishes leave
    for link in links:
        link.close()
    results.put(committed)


class Shops:
    """The terminals spread over worker processes."""

    def __init__(self, broker, prefix: str) -> None:
        self.terminals = []
        for i in range(TERMINALS):
            tid = f"{prefix}{i:04d}"
            key = Ed25519PrivateKey.generate()
            seed = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            creds = tuple(str(p) for p in broker.credentials(tid))
            self.terminals.append((tid, seed, creds, public_pem(key)))
        self.endpoint = Endpoint(broker.host, broker.port)

    def run(self) -> dict:
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start_at = time.time() + CONNECT_SECONDS
        workers = [
            context.Process(
                target=shop_worker,
                args=(self.endpoint, [t[:3] for t in share], start_at, results),
            )
            for share in (self.terminals[i::PROCESSES] for i in range(PROCESSES))
        ]
        for worker in workers:
            worker.start()
        committed = {}
        for _ in workers:
            committed.update(results.get(timeout=CONNECT_SECONDS + DURATION + 120))
        for worker in workers:
            worker.join(30)
        return committed


def bare_latencies(broker) -> tuple[list[float], int]:
    arrived: dict[tuple[str, int], float] = {}

    def on_message(_client, _userdata, message) -> None:
        at = time.time()
        batch = fp.decode("up/journal", message.payload)
        for entry in batch.entries:
            arrived[(batch.terminal_id, entry.seq)] = at

    client = bare_client(broker, on_message)
    committed = Shops(broker, "P").run()
    time.sleep(SETTLE)
    client.disconnect()
    client.loop_stop()
    latencies = [arrived[k] - t for k, t in committed.items() if k in arrived]
    return latencies, len(committed) - len(latencies)


def ingest_latencies(broker, url: str) -> tuple[list[float], int]:
    shops = Shops(broker, "Q")
    db = connect(url)
    create_tables(db)
    for tid, _seed, _creds, pem in shops.terminals:
        register_terminal(db, tid, store="S1", group="bench", public_key_pem=pem)
    cafile, certfile, keyfile = broker.credentials("fleet-ingest")
    server = IngestServer(
        Ingest(db),
        BrokerSettings(broker.host, broker.port, cafile, certfile, keyfile, "bench-ingest"),
    )
    server.start()
    committed = shops.run()
    time.sleep(SETTLE)
    server.stop()
    stored = {
        (e.terminal_id, e.seq): e.stored_at.replace(tzinfo=UTC).timestamp()
        for e in Entry.select(Entry.terminal_id, Entry.seq, Entry.stored_at).bind(db)
    }
    db.close()
    latencies = [stored[k] - t for k, t in committed.items() if k in stored]
    return latencies, len(committed) - len(latencies)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker = start_broker(tmp / "broker")
        try:
            print(
                f"{TERMINALS} terminals on one broker (TLS), a sale each every {INTERVAL:.0f} s "
                f"for {DURATION:.0f} s; the agent looks every {POLL} s"
            )
            bare, lost_bare = bare_latencies(broker)
            print(
                f"bare subscriber: {len(bare)} sales, median "
                f"{statistics.median(bare) * 1000:.0f} ms, "
                f"p99 {percentile(bare, 0.99) * 1000:.0f} ms, not arrived {lost_bare}"
            )
            fleet, lost = ingest_latencies(broker, f"sqlite:///{tmp / 'fleet.db'}")
            p99 = percentile(fleet, 0.99)
            print(
                f"COMMIT to fleet COMMIT: {len(fleet)} sales, median "
                f"{statistics.median(fleet) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
                f"(goal < 1000 ms), not stored {lost}"
            )
            print(f"ratio p99 fleet / bare: {p99 / percentile(bare, 0.99):.2f}x")
            print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
