"""Rollout: a configuration with a 5,000-product catalogue pushed to 500 terminals
through one broker; the time until every terminal reported it applied, and the bytes
each received.

The terminals are lightweight simulations (five processes; paho's select loop takes
descriptors below 1024), each with its own client certificate and TLS connection,
subscribed to its retained ``down/cfg``. Each does what the agent does with a bundle:
it checks the key list against the pinned root and verifies every document
(``terminal.core.signed_config``), then answers ``up/cfg-status`` applied. The admin's
command is the real one, ``pos-fleet config push --group bench FILE --waves 100%``, and
``pos-fleet serve`` (in this process) takes the answers. Timed from the command's start
to its end (it ends when every terminal of the wave answered).

Baseline, in the same run: the same bundle bytes published retained to each terminal's
topic by a bare paho client, and received by the same terminals without verifying or
answering. Goal (issue 14): under 60 s.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from fleet import signing
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.registry import register_terminal
from fleet.server import BrokerSettings, IngestServer
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from terminal.core.barcodes import gs1_check_digit
from tests.conftest import ROOT
from tests.fleet_world import fleet_toml
from tests.mosquitto import start_broker

QUICK = os.environ.get("BENCH_QUICK") == "1"
TERMINALS = 20 if QUICK else 500
PRODUCTS = 500 if QUICK else 5000
PROCESSES = 2 if QUICK else 5
GROUP = "bench"


def catalogue_toml(count: int) -> str:
    lines = ['[taxes.PPN]\nrate = "11"\n']
    for n in range(count):
        code = f"899{n:09d}"
        check = gs1_check_digit(code)
        lines.append(
            f'[[products]]\nsku = "P{n:05d}"\nname = "Produk nomor {n} ukuran sedang"\n'
            f'price = {1000 + n * 10}\ntax_class = "PPN"\nbarcodes = ["{code}{check}"]\n'
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def terminal_worker(endpoint, terminals, root_pem: bytes, verify: bool, results) -> None:
    """Terminals of one process: subscribe, take the bundle, (verify and answer)."""
    root = sc.load_public_key(root_pem)
    received: dict[str, tuple[float, int]] = {}
    lock = threading.Lock()
    clients = []
    for tid, (cafile, certfile, keyfile) in terminals:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"sim-{tid}", protocol=mqtt.MQTTv5
        )
        client.tls_set(ca_certs=cafile, certfile=certfile, keyfile=keyfile)

        def on_message(c, _u, message, tid=tid) -> None:
            if not message.payload:
                return
            at, size = time.time(), len(message.payload)
            if verify:
                bundle = fp.decode("down/cfg", message.payload)
                now = datetime.now(UTC)
                trust = sc.Trust(root)
                trust.accept_key_list(bundle.key_list.encode(), now)
                versions = {}
                for document in bundle.documents:
                    config = sc.verify_config(
                        document.encode(), trust=trust, terminal_id=tid, group=GROUP,
                        applied_versions={}, now=now,
                    )  # fmt: skip
                    label = config.scope.kind + (
                        f":{config.scope.name}" if config.scope.name else ""
                    )
                    versions[label] = config.version
                status = fp.ConfigStatus(
                    "applied", now.isoformat(), versions=versions, rollout=bundle.rollout
                )
                c.publish(fp.topic(tid, "up/cfg-status"), fp.encode(status), qos=1)
            with lock:
                received[tid] = (at, size)

        ready: queue.Queue = queue.Queue()
        client.on_message = on_message
        client.on_subscribe = lambda *_a, r=ready: r.put(True)
        client.on_connect = lambda c, *_a, t=tid: c.subscribe(fp.topic(t, "down/cfg"), 1)
        client.connect(endpoint.host, endpoint.port, keepalive=120)
        client.loop_start()
        ready.get(timeout=60)
        clients.append(client)
    results.put(("ready", len(clients)))
    deadline = time.time() + 600
    while time.time() < deadline and len(received) < len(terminals):
        time.sleep(0.05)
    time.sleep(1)  # the last statuses leave
    for client in clients:
        client.disconnect()
        client.loop_stop()
    results.put(("done", received))


class Fleet:
    def __init__(self, tmp: Path, broker) -> None:
        self.tmp, self.broker = tmp, broker
        self.terminals = [f"R{i:04d}" for i in range(TERMINALS)]
        self.credentials = {t: tuple(str(p) for p in broker.credentials(t)) for t in self.terminals}

    def start_terminals(self, verify: bool):
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        shares = [self.terminals[i::PROCESSES] for i in range(PROCESSES)]
        workers = [
            context.Process(
                target=terminal_worker,
                args=(
                    Endpoint(self.broker.host, self.broker.port),
                    [(t, self.credentials[t]) for t in share],
                    self.root_pem,
                    verify,
                    results,
                ),
            )
            for share in shares
        ]
        for worker in workers:
            worker.start()
        for _ in workers:
            kind, _count = results.get(timeout=600)
            assert kind == "ready"
        return workers, results

    @staticmethod
    def collect(workers, results) -> dict:
        received = {}
        for _ in workers:
            kind, part = results.get(timeout=900)
            assert kind == "done"
            received.update(part)
        for worker in workers:
            worker.join(30)
        return received


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        broker = start_broker(tmp / "broker")
        try:
            fleet = Fleet(tmp, broker)
            root_dir, signing_dir = tmp / "root", tmp / "signing"
            signing.init(root_dir, signing_dir, datetime.now(UTC) - timedelta(minutes=1))
            fleet.root_pem = (root_dir / signing.ROOT_PUBLIC).read_bytes()
            doc = tmp / "catalogue.toml"
            doc.write_text(catalogue_toml(PRODUCTS))
            url = f"sqlite:///{tmp / 'fleet.db'}"
            db = connect(url)
            create_tables(db)
            for tid in fleet.terminals:
                key = Ed25519PrivateKey.generate().public_key()
                register_terminal(
                    db, tid, store="S1", group=GROUP, public_key_pem=sc.public_pem(key)
                )
            print(f"{TERMINALS} terminals, a catalogue of {PRODUCTS:,} products, one broker (TLS)")

            # the baseline: the bundle's bytes, bare, retained on each terminal's topic
            signed = signing.sign_config(
                signing_dir,
                signing.read_document(doc),
                sc.parse_scope(f"group:{GROUP}"),
                datetime.now(UTC),
            )
            key_list = (signing_dir / signing.KEY_LIST).read_text()
            payload = fp.encode(fp.ConfigBundle(key_list, [signed.envelope.decode()]))
            workers, results = fleet.start_terminals(verify=False)
            cafile, certfile, keyfile = broker.credentials("fleet-ingest")
            bare = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id="bench-bare-push", protocol=mqtt.MQTTv5
            )
            bare.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
            bare.connect(broker.host, broker.port)
            bare.loop_start()
            start = time.time()
            for tid in fleet.terminals:
                bare.publish(fp.topic(tid, "down/cfg"), payload, qos=1, retain=True)
            got = fleet.collect(workers, results)
            bare_time = max(at for at, _size in got.values()) - start
            for tid in fleet.terminals:  # clear the retained copies
                bare.publish(fp.topic(tid, "down/cfg"), b"", qos=1, retain=True).wait_for_publish(
                    10
                )
            bare.disconnect()
            bare.loop_stop()
            print(f"bare publish of the same bytes to {len(got)} terminals: {bare_time:6.1f} s")

            # the real push: pos-fleet config push, verified and answered by each terminal
            server = IngestServer(
                Ingest(connect(url)),
                BrokerSettings(broker.host, broker.port, cafile, certfile, keyfile, "bench-ingest"),
            )
            server.start()
            workers, results = fleet.start_terminals(verify=True)
            config = fleet_toml(
                tmp / "push.toml", db_url=url, broker=broker, client_id="push", signing=signing_dir
            )
            start = time.time()
            done = subprocess.run(
                [sys.executable, "-m", "fleet.cli", "config", "push", "--group", GROUP, str(doc),
                 "--waves", "100%", "--wait", "600", "--config", str(config)],
                cwd=ROOT, capture_output=True, text=True, timeout=900,
            )  # fmt: skip
            elapsed = time.time() - start
            got = fleet.collect(workers, results)
            server.stop()
            if done.returncode != 0:
                raise RuntimeError(
                    f"config push failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
            sizes = sorted(size for _at, size in got.values())
            print(
                f"pos-fleet config push until all {len(got)} reported applied: {elapsed:6.1f} s"
                " (goal < 60 s)"
            )
            print(f"bytes per terminal: {sizes[len(sizes) // 2]:,} (the bundle, once)")
            print(f"ratio push / bare: {elapsed / bare_time:.2f}x")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
