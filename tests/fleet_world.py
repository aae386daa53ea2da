"""A fleet on this machine, for the end-to-end tests and the benchmarks: a real Mosquitto,
``pos-fleet serve`` and ``pos-terminal agent`` as processes of their own, terminals whose
databases are made and sold into by the terminal's own code.

    world = World(tmp, start_broker(tmp / "broker"), "sqlite:///.../fleet.db")
    shop = world.shop("T01")        # registered with `pos-fleet terminal add`
    world.serve(); shop.start_agent(); shop.sell(10); all_held(world, shop)
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from fleet.db import connect
from fleet.models import Entry, Sale, Terminal
from terminal.config import parse_settings
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import head
from tests.conftest import CONFIG, ROOT, with_open_shift

TEH = "8991002101111"
DEADLINE = 60.0


def wait_for(condition, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"never happened: {what}")


def fleet_toml(
    path: Path, *, db_url: str, broker, client_id: str, signing: Path | None = None
) -> Path:
    """The fleet's configuration for a process of the test: its database, the broker
    with the ingest's credentials, the broker's CA as the issuing CA (enrollment), the
    enrollment broker (how the fleet reaches it, how a bundle names it), the signing keys
    if any."""
    cafile, certfile, keyfile = broker.credentials("fleet-ingest")
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n'
        f'[broker]\nhost = "{broker.host}"\nport = {broker.port}\n'
        f'ca_file = "{cafile}"\ncert_file = "{certfile}"\nkey_file = "{keyfile}"\n'
        f'client_id = "{client_id}"\nkeepalive = 10\n'
        f'\n[pki]\ndir = "{broker.directory}"\n'
        f"\n[enrollment]\nenabled = {'true' if broker.enroll_port else 'false'}\n"
        f'host = "{broker.host}"\nport = {broker.enroll_port or 8884}\n'
        f'broker_host = "localhost"\nbroker_port = {broker.port}\n'
        f"enroll_port = {broker.enroll_port or 8884}\n"
        + (f'\n[signing]\ndir = "{signing}"\n' if signing else "")
    )
    return path


def terminal_toml(path: Path, data: Path, terminal_id: str, broker, **fleet: str) -> Path:
    """The shipped pos.toml with this terminal's data, id and [fleet] turned on."""
    cafile, certfile, keyfile = broker.credentials(terminal_id)
    text = CONFIG.read_text()
    changes = {
        "data_dir": f'"{data}"',
        "id": f'"{terminal_id}"',
        "enabled": "true",
        "host": f'"{broker.host}"',
        "port": str(broker.port),
        "ca_file": f'"{cafile}"',
        "cert_file": f'"{certfile}"',
        "key_file": f'"{keyfile}"',
        "backoff_cap_seconds": "2.0",
        "ack_timeout_seconds": "5.0",
        **fleet,  # other [fleet] settings, as TOML values
    }
    fleet_at = text.index("\n[fleet]\n")
    before, after = text[:fleet_at], text[fleet_at:]
    for key in ("data_dir", "id"):
        before, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {changes[key]}", before, count=1)
        assert n == 1, key
    section_end = after.index("\n[", 2)
    section, rest = after[:section_end], after[section_end:]
    for key in list(changes)[2:]:
        section, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {changes[key]}", section, count=1)
        assert n == 1, key
    path.write_text(before + section + rest)
    return path


@dataclass
class World:
    tmp: Path
    broker: object
    db_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)
    signing: Path | None = None  # the signing keys' directory (pos-fleet config push)

    def spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = (self.tmp / f"{log_name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def serve(
        self, name: str = "fleet-ingest-1", broker=None, *, wait: bool = True
    ) -> subprocess.Popen:
        """``pos-fleet serve`` as a process; ``wait``: until it is subscribed (what a
        terminal sends before then, with nobody subscribed yet, the broker drops)."""
        config = fleet_toml(
            self.tmp / f"{name}.toml",
            db_url=self.db_url,
            broker=broker or self.broker,
            client_id=name,
            signing=self.signing,
        )
        process = self.spawn(["-m", "fleet.cli", "serve", "--config", str(config)], name)
        if wait:
            log = self.tmp / f"{name}.log"
            wait_for(
                lambda: (
                    process.poll() is not None
                    or (
                        log.exists()
                        and b"ingest subscribed" in (text := log.read_bytes())
                        and b"enrollment subscribed" in text
                    )
                ),
                f"{name} subscribed",
                30,
            )
        return process

    def fleet(self, *args: str) -> subprocess.CompletedProcess:
        config = fleet_toml(
            self.tmp / "cli.toml",
            db_url=self.db_url,
            broker=self.broker,
            client_id="cli",
            signing=self.signing,
        )
        return subprocess.run(
            [sys.executable, "-m", "fleet.cli", *args, "--config", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def shop(self, terminal_id: str = "T01", broker=None, group: str = "G", **fleet: str) -> Shop:
        """A terminal (its database made by the terminal's code, a shift open, cashier 1
        signed in), registered with the fleet by ``pos-fleet terminal add`` in ``group``.
        The terminal in this process runs the same settings as its agent."""
        broker = broker or self.broker
        data = self.tmp / terminal_id
        config = terminal_toml(
            self.tmp / f"{terminal_id}.toml", data, terminal_id, broker, group=f'"{group}"', **fleet
        )
        with config.open("rb") as fh:
            settings = parse_settings(tomllib.load(fh))
        built = with_open_shift(build_terminal(settings, pin_params=FAST_TEST_PARAMS))
        built.pos.sign_in("1", "1357")
        key = self.tmp / f"{terminal_id}-journal.pem"
        key.write_bytes(built.pos.journal.public_key_pem())
        added = self.fleet(
            "terminal",
            "add",
            terminal_id,
            "--store",
            "S1",
            "--group",
            group,
            "--timezone",
            "Asia/Jakarta",
            "--journal-key",
            str(key),
        )
        assert added.returncode == 0, added.stderr
        return Shop(self, terminal_id, built, config)

    def db(self):
        return connect(self.db_url)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@dataclass
class Shop:
    world: World
    terminal_id: str
    built: object
    config: Path
    agent: subprocess.Popen | None = None

    @property
    def pos(self):
        return self.built.pos

    def start_agent(self) -> subprocess.Popen:
        self.agent = self.world.spawn(
            ["-m", "terminal", "--config", str(self.config), "agent"], f"agent-{self.terminal_id}"
        )
        return self.agent

    def sell(self, count: int = 1) -> list[int]:
        numbers = []
        for _ in range(count):
            self.pos.scan(TEH)
            numbers.append(self.pos.pay_cash(10000).committed.number)
        return numbers

    def head(self) -> int:
        return head(self.pos.db).seq


def held(db, terminal_id: str) -> int:
    terminal = Terminal.select().where(Terminal.id == terminal_id).bind(db).first()
    return terminal.acked_seq if terminal else 0


def all_held(world: World, shop: Shop, deadline: float = DEADLINE) -> None:
    """Waits until the fleet holds the terminal's whole journal, then checks each entry
    and each sale is there once."""
    target = shop.head()
    db = world.db()
    try:
        wait_for(
            lambda: held(db, shop.terminal_id) >= target,
            f"the fleet to hold seq {target}",
            deadline,
        )
        entries = [
            e.seq
            for e in Entry.select(Entry.seq)
            .where(Entry.terminal_id == shop.terminal_id)
            .order_by(Entry.seq)
            .bind(db)
        ]
        assert entries == list(range(1, target + 1))
    finally:
        db.close()


def sale_numbers(world: World, terminal_id: str) -> list[int]:
    db = world.db()
    try:
        return sorted(
            s.number
            for s in Sale.select(Sale.number).where(Sale.terminal_id == terminal_id).bind(db)
        )
    finally:
        db.close()
