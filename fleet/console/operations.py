"""What a fleet admin does from the console that reaches the terminals: a configuration
signed and pushed in waves, a rollout paused, resumed or aborted, a job sent. The same
code as ``pos-fleet config push``, ``rollout ...`` and ``jobs send`` (:mod:`fleet.rollout`,
:mod:`fleet.secrets`, :mod:`fleet.job_commands`), with the console's process holding the
signing directory and the broker credentials of ``config/fleet.toml``.

A push's waves wait for the terminals' answers, so a rollout is driven on a thread of the
console's process; its state is in the database, so the page shows its progress and any
shell (or page) can pause or abort it. A console restarted in the middle leaves the
rollout running with nobody driving it: "Resume" on the page (or ``pos-fleet rollout
resume``) picks it up, as the CLI's interrupted push does.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import peewee

from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.config import FleetConfig
from fleet.config_commands import _broker
from fleet.publisher import Publisher, PublishError
from fleet.secrets import SecretError, TerminalSealer
from terminal.core import signed_config as sc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaveOptions:
    waves: list[int]
    gate_refused: int = 0
    gate_offline: int = 0
    gate_errors: int = 0
    soak: float = 0
    wait: float = 300
    expires: timedelta = timedelta(days=fleet_signing.DEFAULT_CONFIG_DAYS)


@dataclass
class Operations:
    """The console's hands: ``config`` names the signing directory and the broker."""

    db: peewee.Database
    config: FleetConfig
    poll: float = 0.2
    drivers: dict[int, threading.Thread] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def signing_dir(self) -> Path:
        return Path(self.config.signing.dir)

    def push(self, document: dict, scope: sc.Scope, options: WaveOptions) -> rollouts.Planned:
        """Sign ``document`` for ``scope`` as its next version and start its rollout.
        SigningError or RolloutError: nothing signed or sent."""
        rollouts.key_list(self.signing_dir)  # (a missing key list: said before signing)
        planned = rollouts.sign_and_plan(
            self.db,
            self.signing_dir,
            document,
            scope,
            waves=options.waves,
            gate_refused=options.gate_refused,
            gate_offline=options.gate_offline,
            gate_errors=options.gate_errors,
            soak=options.soak,
            wave_timeout=options.wait,
            expires=options.expires,
        )
        self.drive(planned.rollout.id)
        return planned

    def drive(self, rollout_id: int) -> None:
        """Run the rollout's waves on a thread (one per rollout)."""
        with self.lock:
            running = self.drivers.get(rollout_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(rollout_id,), name=f"rollout-{rollout_id}", daemon=True
            )
            self.drivers[rollout_id] = thread
            thread.start()

    def _run(self, rollout_id: int) -> None:
        scope = sc.parse_scope(rollouts.get(self.db, rollout_id).scope)
        seal = TerminalSealer(self.db, self.signing_dir, scope)
        try:
            keys = rollouts.key_list(self.signing_dir)
            with Publisher(_broker(self.config)) as publisher:
                ended = rollouts.run(
                    self.db,
                    rollout_id,
                    lambda topic, payload: publisher.publish(topic, payload, retain=True),
                    keys,
                    poll=self.poll,
                    seal=seal,
                )
            log.info("rollout %d %s", rollout_id, ended.state)
        except (PublishError, SecretError, fleet_signing.SigningError, OSError) as exc:
            log.warning("rollout %d paused: %s", rollout_id, exc)
            with contextlib.suppress(rollouts.RolloutError):
                rollouts.pause(self.db, rollout_id)
            rollouts.Rollout.update(message=f"paused: {exc}"[:1000]).where(
                rollouts.Rollout.id == rollout_id
            ).execute(self.db)

    def pause(self, rollout_id: int) -> rollouts.Rollout:
        return rollouts.pause(self.db, rollout_id)

    def abort(self, rollout_id: int) -> rollouts.Rollout:
        return rollouts.abort(self.db, rollout_id)

    def resume(self, rollout_id: int) -> rollouts.Rollout:
        resumed = rollouts.resume(self.db, rollout_id)
        self.drive(rollout_id)
        return resumed
