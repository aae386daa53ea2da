"""A software TPM 2.0 (Debian's swtpm) on a free loopback port, standing for the TPM
module of one terminal. Each instance has its own state directory, so its own seeds:
two instances are two different terminals' TPMs."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def _free_port_pair() -> int:
    """A port N with N+1 free too (swtpm's server and control channels)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of loopback ports")


class SoftwareTpm:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def tcti(self) -> str:
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def start(self) -> SoftwareTpm:
        binary = shutil.which("swtpm")
        if binary is None:
            raise RuntimeError("swtpm is not installed: run `make test`, which installs it")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port_pair()
        self.proc = subprocess.Popen(
            [
                binary,
                "socket",
                "--tpm2",
                "--tpmstate",
                f"dir={self.state_dir}",
                "--server",
                f"type=tcp,port={self.port},bindaddr=127.0.0.1",
                "--ctrl",
                f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
                "--flags",
                "not-need-init,startup-clear",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"swtpm did not start: {self.proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("swtpm did not open its port")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
            self.proc = None
