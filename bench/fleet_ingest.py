"""Fleet ingest: entries per second verified and stored by one ``pos-fleet serve``
instance, against a bare paho subscriber that only counts them, through the same
Mosquitto (mutual TLS, the fleet's configuration) in the same run.

N simulated terminals (bench/fleet_sim.py: real journals, real Ed25519-signed sale
entries with the payload the terminal's own code makes) publish their journals in
batches of 200, QoS 1, each over its own TLS connection:

1. baseline: a paho client on the ingest's shared subscription that counts the entries
   of each batch it receives (it decodes nothing else, stores nothing, acknowledges
   nothing); timed from the first publish to the last entry counted;
2. the ingest (``fleet.server.IngestServer`` with ``fleet.ingest.Ingest``) into a fresh
   SQLite fleet database, then into a fresh PostgreSQL one (a real server, initdb'd into
   a temporary directory): timed from the first publish to the last terminal's
   ``down/ack`` naming its last entry, which the fleet sends only after its COMMIT.

Goal (issue 13): the ingest at least 0.5x the bare subscriber.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.fleet_sim import Publisher, SimTerminal, bare_client, real_sale
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.registry import register_terminal
from fleet.server import BrokerSettings, IngestServer
from tests.mosquitto import start_broker
from tests.postgres import start_postgres

QUICK = os.environ.get("BENCH_QUICK") == "1"
TERMINALS = 4 if QUICK else 20
ENTRIES = 400 if QUICK else 2000  # per terminal
BATCH = 200


def make_terminals() -> list[SimTerminal]:
    sale = real_sale()
    terminals = [SimTerminal(f"B{i:03d}") for i in range(TERMINALS)]
    for terminal in terminals:
        terminal.sell(sale, ENTRIES)
    return terminals


def batches_of(terminals: list[SimTerminal]) -> dict[str, list[bytes]]:
    out = {}
    for terminal in terminals:
        terminal.sent_to = 0
        out[terminal.terminal_id] = terminal.unsent_batches(BATCH)
    return out


def publish_all(publishers: list[Publisher], batches: dict[str, list[bytes]]) -> None:
    threads = [
        threading.Thread(target=p.publish, args=(batches[p.terminal_id],)) for p in publishers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def bare_subscriber(broker, total: int) -> float:
    """Seconds until a counting subscriber has seen ``total`` entries."""
    counted = 0
    done = threading.Event()
    lock = threading.Lock()

    def on_message(_client, _userdata, message) -> None:
        nonlocal counted
        # a batch's entry count without decoding it: its entries' "signature" fields
        with lock:
            counted += message.payload.count(b'"signature":')
            if counted >= total:
                done.set()

    client = bare_client(broker, on_message)
    return client, done


def run(broker, terminals, url: str | None) -> float:
    """Entries per second: counted by the bare subscriber (url None) or stored by the
    ingest into the database at ``url``."""
    total = TERMINALS * ENTRIES
    batches = batches_of(terminals)
    publishers = [Publisher(broker, t.terminal_id) for t in terminals]
    for p in publishers:
        p.want = ENTRIES
    server = db = None
    if url is None:
        client, done = bare_subscriber(broker, total)
    else:
        db = connect(url)
        create_tables(db)
        for t in terminals:
            register_terminal(
                db, t.terminal_id, store="S1", group="bench", public_key_pem=t.public_key_pem
            )
        cafile, certfile, keyfile = broker.credentials("fleet-ingest")
        server = IngestServer(
            Ingest(db),
            BrokerSettings(broker.host, broker.port, cafile, certfile, keyfile, "bench-ingest"),
        )
        server.start()
    start = time.perf_counter()
    publish_all(publishers, batches)
    if url is None:
        if not done.wait(300):
            raise RuntimeError("the bare subscriber did not see every entry")
        client.disconnect()
        client.loop_stop()
    else:
        for p in publishers:
            if not p.done.wait(300):
                raise RuntimeError(f"{p.terminal_id}: acked {p.acked} of {ENTRIES}")
    elapsed = time.perf_counter() - start
    for p in publishers:
        p.close()
    if server is not None:
        server.stop()
        db.close()
    return total / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker = start_broker(tmp / "broker")
        postgres = start_postgres()
        try:
            print(f"{TERMINALS} terminals x {ENTRIES} signed sale entries, batches of {BATCH}")
            terminals = make_terminals()
            bare = run(broker, terminals, None)
            print(f"bare subscriber (counts only):     {bare:10,.0f} entries/s")
            sqlite = run(broker, terminals, f"sqlite:///{tmp / 'fleet.db'}")
            print(f"pos-fleet serve on SQLite:         {sqlite:10,.0f} entries/s")
            pg = run(broker, terminals, postgres.new_database())
            print(f"pos-fleet serve on PostgreSQL:     {pg:10,.0f} entries/s")
            print(f"ratio SQLite / bare:     {sqlite / bare:.2f}x (goal >= 0.5x)")
            print(f"ratio PostgreSQL / bare: {pg / bare:.2f}x (goal >= 0.5x)")
        finally:
            broker.stop()
            postgres.stop()


if __name__ == "__main__":
    main()
