"""A real PostgreSQL (Debian's package) for the tests: ``initdb`` into a temporary
directory, the server on a free loopback port, a fresh database per test.

    server = start_postgres()
    url = server.new_database()        # postgresql://fleet@127.0.0.1:PORT/test_3
    ...
    server.stop()                      # the server and its directory, gone

PostgreSQL refuses to run as root; as root (CI, this machine) the server runs as the
``postgres`` system user the Debian package creates, in a directory given to it.
``fsync=off``: a test database need not survive a power cut.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

SUPERUSER = "fleet"
INSTALL_HINT = (
    "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): "
    "run `make test`, which installs it (Debian's postgresql package)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bindir() -> Path:
    """The newest PostgreSQL's binaries (``PG_BINDIR`` overrides)."""
    if os.environ.get("PG_BINDIR"):
        candidates = [Path(os.environ["PG_BINDIR"])]
    else:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise RuntimeError(INSTALL_HINT)


@dataclass
class Postgres:
    directory: Path
    port: int
    bindir: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None
    _user: dict = field(default_factory=dict)  # Popen's user/group when run as root
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=False,
            **self._user,
        )
        if result.returncode:
            raise RuntimeError(f"{args[0]} failed: {result.stderr or result.stdout}")

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )

    def start(self, timeout: float = 30.0) -> None:
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.directory),  # its unix socket stays in its own directory
                "-c",
                f"listen_addresses={self.host}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=100",
            ],
            cwd=self.directory,
            stdout=log,
            stderr=log,
            **self._user,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log.read_text()[-2000:]}")
            try:
                psycopg2.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.05)
        raise RuntimeError(f"postgres did not answer in time: {self.log.read_text()[-2000:]}")

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{next(self._names)}"
        con = psycopg2.connect(self.url())
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.url(name)

    def stop(self) -> None:
        """A fast shutdown (SIGINT), then the directory is removed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb and start a server; as root, as the ``postgres`` user. RuntimeError (with
    the way to install it) when PostgreSQL is missing."""
    bindir = find_bindir()
    # under /tmp itself: pytest's own temporary directories are closed to other users
    directory = Path(tempfile.mkdtemp(prefix="pos-fleet-pg-"))
    user: dict = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(
                "running as root, PostgreSQL needs the `postgres` system user: " + INSTALL_HINT
            ) from None
        os.chown(directory, account.pw_uid, account.pw_gid)
        user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    server = Postgres(directory, free_port(), bindir, _user=user)
    try:
        server.init()
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
