"""A real Mosquitto (Debian's package) on a free loopback port, with the fleet's own
configuration and ACLs (fleet/mosquitto/), mutual TLS from a throw-away CA.

    broker = start_broker(tmp_path)
    cafile, certfile, keyfile = broker.credentials("T01")   # a terminal's
    ...
    broker.stop(); broker.start()                            # the same port, its data kept
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from fleet import pki
from fleet.broker import enroller_secret, mosquitto_binary, write_config, write_enroll_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Broker:
    directory: Path
    port: int
    ca: pki.Authority
    host: str = "127.0.0.1"
    enroll_port: int = 0  # the enrollment broker's (a second Mosquitto; 0: none)
    process: subprocess.Popen | None = None
    enroll_process: subprocess.Popen | None = None
    _issued: dict[str, tuple[Path, Path, Path]] = field(default_factory=dict)

    @property
    def cafile(self) -> Path:
        return self.directory / "ca.crt"

    def credentials(self, name: str, ca: pki.Authority | None = None) -> tuple[Path, Path, Path]:
        """(CA file, certificate, key) of a client called ``name`` (a terminal id or a
        fleet service); ``ca``: another authority, for a client the broker must refuse."""
        key = (name, id(ca))
        if key not in self._issued:
            issued = pki.issue_with_new_key(ca or self.ca, name)
            where = self.directory / "clients" / f"{name}-{len(self._issued)}"
            where.mkdir(parents=True)
            (where / "client.crt").write_bytes(pki.certificate_pem(issued.certificate))
            pki.write_private(where / "client.key", pki.key_pem(issued.key))
            self._issued[key] = (self.cafile, where / "client.crt", where / "client.key")
        return self._issued[key]

    def start(self, timeout: float = 10.0) -> None:
        """The fleet's broker (and, the first time, the enrollment broker beside it: it
        runs until this object goes, so stopping and starting the fleet's broker, as the
        tests of its return do, goes exactly as it would alone)."""
        if self.enroll_port and (self.enroll_process is None or self.enroll_process.poll()):
            conf = self.directory / "enroll" / "mosquitto.conf"
            self.enroll_process = self._run(conf, self.enroll_port, timeout)
            weakref.finalize(self, _terminate, self.enroll_process)
        self.process = self._run(self.directory / "mosquitto.conf", self.port, timeout)

    def _run(self, conf: Path, port: int, timeout: float) -> subprocess.Popen:
        process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {process.stderr.read().decode()}")
            try:
                socket.create_connection((self.host, port), timeout=0.2).close()
                return process
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not listen in time")

    def stop(self) -> None:
        """As an administrator stops it: SIGTERM, its persistence saved."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(10)


def start_broker(directory: Path) -> Broker:
    directory.mkdir(parents=True, exist_ok=True)
    ca = pki.new_authority("test fleet CA")
    pki.save_authority(ca, directory)
    server = pki.issue_with_new_key(ca, "localhost", server_names=("localhost", "127.0.0.1"))
    (directory / "server.crt").write_bytes(pki.certificate_pem(server.certificate))
    pki.write_private(directory / "server.key", pki.key_pem(server.key))
    port, enroll_port = free_port(), free_port()
    files = {
        "cafile": directory / "ca.crt",
        "certfile": directory / "server.crt",
        "keyfile": directory / "server.key",
    }
    write_config(directory, port=port, host="127.0.0.1", **files)
    write_enroll_config(  # the enrollment broker beside it (its secret in the CA's directory)
        directory / "enroll",
        port=enroll_port,
        host="127.0.0.1",
        secret=enroller_secret(directory),
        **files,
    )
    broker = Broker(directory, port, ca, enroll_port=enroll_port)
    broker.start()
    return broker
