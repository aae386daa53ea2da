"""The app's side of the fleet link. The fleet agent is another process
(``pos-terminal agent``, :mod:`terminal.fleet.agent`); the app never waits for it nor for
the network. What passes between them:

- the journal itself, in the shared database (WAL): the agent reads what the app
  committed, and keeps its acknowledged mark in a row of its own
  (:mod:`terminal.store.outbox`);
- device health changes: the app writes each one as a device event (one short
  transaction, from the health watch's thread, never on a sale's path; only when
  ``[fleet] enabled``); the agent publishes them;
- "Send now": the app creates the file ``<data_dir>/agent/send-now``; the agent looks
  for it every 50 ms, removes it, and sends at once (connecting at once, without its
  backoff wait, when it is not connected). A file, not a socket or a signal: it needs no
  process id nor a listening agent, works across a restart of either process, and a
  request made while the agent is down is kept for its next start;
- whether the agent runs: it holds an exclusive ``flock`` on ``<data_dir>/agent/agent.lock``
  while it runs; the kernel drops it with the process, however it ends (even SIGKILL).
  The app tries a shared lock, without waiting: refused means the agent is there.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from peewee import DatabaseError

from terminal.services.action_lines import log_action
from terminal.services.events import Event
from terminal.store import outbox

log = logging.getLogger(__name__)

AGENT_DIR = "agent"
SEND_NOW = "send-now"
LOCK = "agent.lock"


def agent_dir(data_dir: Path) -> Path:
    return Path(data_dir) / AGENT_DIR


def agent_running(directory: Path) -> bool:
    """Whether an agent holds the lock in ``directory`` now."""
    try:
        fd = os.open(directory / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def ask_send_now(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SEND_NOW).touch()


@dataclass(frozen=True)
class FleetStatus:
    enabled: bool  # [fleet] enabled
    running: bool  # the agent runs
    connected: bool  # ... and is connected to the broker
    unsent: int  # journal entries the fleet has not confirmed yet


class FleetLink:
    """``session``: who is signed in, for the action's log line."""

    def __init__(self, ctx, session=None) -> None:
        self.ctx = ctx
        self.session = session
        self._health: set[str] = set()
        self._lock = threading.Lock()
        ctx.events.subscribe(self._health_changed, {"health_changed"})

    @property
    def directory(self) -> Path:
        return agent_dir(self.ctx.settings.data_dir)

    def _health_changed(self, event: Event) -> None:
        """Each health event that began or ended since the last reading, written down for
        the agent (on the health watch's thread)."""
        if not self.ctx.settings.fleet.enabled:
            return
        with self._lock:
            now = set(event.data.get("events", ()))
            began, ended = sorted(now - self._health), sorted(self._health - now)
            self._health = now
            changes = [(name, False) for name in began] + [(name, True) for name in ended]
            try:
                outbox.record_device_events(self.ctx.db, changes, self.ctx.clock())
            except DatabaseError as exc:  # a health note must never stop the terminal
                log.warning("device health not written for the fleet: %s", exc)

    def status(self) -> FleetStatus:
        """Cheap enough for a menu to ask each time it opens: two reads of one row and
        a lock that is tried, not waited for."""
        db = self.ctx.db
        unsent = outbox.unsent(db)
        if not self.ctx.settings.fleet.enabled:
            return FleetStatus(False, False, False, unsent)
        running = agent_running(self.directory)
        connected = running and outbox.link(db).connected
        return FleetStatus(True, running, connected, unsent)

    def send_now(self) -> FleetStatus:
        """Ask the agent to send at once (and to connect at once when it is not
        connected). Nothing is asked when the fleet is off or the agent is not running:
        the status says which."""
        status = self.status()
        if status.enabled and status.running:
            ask_send_now(self.directory)
        cashier = self.session.cashier if self.session is not None else None
        log_action(
            f"send now asked, {status.unsent} unsent",
            "send_now",
            cashier=cashier.id if cashier else None,
            unsent=status.unsent,
            agent="connected"
            if status.connected
            else "running"
            if status.running
            else "off"
            if not status.enabled
            else "not-running",
        )
        return status
