"""The fleet agent: ``pos-terminal agent``, a process of its own beside the app.

It sends the journal (the outbox: every sale, refund, shift, Z report, lockout and fraud
signal, in seq order, signed) to the fleet over MQTT 5, and reports the terminal's
presence and its devices' health. The app never waits for it; it can be killed at any
moment and started again and loses nothing:

- the mark (the highest seq the fleet confirmed holding) moves only on the fleet's Ack,
  which comes after the fleet committed; it is stored at once and never goes down;
- entries go from mark+1 on, in batches of ``batch_size``, QoS 1, never more than
  ``max_in_flight`` beyond the mark; on every (re)connection, and when no Ack moved the
  mark for ``ack_timeout_seconds`` while entries are out, sending starts again from
  mark+1 (the fleet stores each entry once, so a second copy is harmless);
- an Ack with ``resend_from`` (the fleet found a gap or refused an entry) rewinds the
  sending there;
- entries the app commits are seen within 50 ms (``PRAGMA data_version`` tells when
  another connection committed: no page is read until something changed);
- it never writes the journal, the key store nor anything of the app's; it writes its own
  row (mark, birth, link state), the configuration and job rows it hands to the app, and
  nothing else.

Presence: each connection takes the next birth; its Last Will is State(offline, birth)
retained on ``pos/v1/{tid}/state``, and once connected it publishes State(online, birth,
software, configuration version) retained. A clean stop (SIGTERM) says offline itself.

Jobs (``down/job/{id}``, retained): see :mod:`.jobs`; send now, diagnostics and the
certificate jobs run here, the others are handed to the app; each result row (and each
``running`` step before it) is published on ``up/job/{id}`` and marked sent on the
broker's PUBACK, like the configuration statuses. A ``send_now`` reports its progress as
the fleet acknowledges the journal up to the head it saw, then ``done``.
``rotate_certificate`` makes a new key here and reports its request; ``install_certificate``
checks the certificate the fleet CA made of it, swaps the files, reconnects with it and
falls back to the old pair when the broker refuses it (:mod:`.certificate`).

Reconnecting is its own loop: full-jitter exponential backoff (:mod:`.backoff`), cut
short by Send now (the file ``<data_dir>/agent/send-now``, see
:mod:`terminal.services.fleet_link`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import NameOID
from peewee import Database

from terminal.config import FleetSettings, Settings
from terminal.core import fleet_protocol as fp
from terminal.core.config_secrets import public_hex, terminal_key
from terminal.core.errors import ConfigError
from terminal.core.signed_config import ConfigRefused
from terminal.fleet import certificate, jobs
from terminal.fleet.backoff import Backoff
from terminal.fleet.events import device_message, journal_message
from terminal.fleet.link import LinkError, MqttLink
from terminal.services import fleet_config as config_check
from terminal.services.about import software_version
from terminal.services.bootstrap import protector_for
from terminal.services.fleet_link import LOCK, SEND_NOW, agent_dir
from terminal.store import fleet_config, fleet_jobs, outbox
from terminal.store.cashiers import PinHasher
from terminal.store.db import DatabaseUnusable, open_beside
from terminal.store.keystore import KeyStore, KeyStoreError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # the journal's head and Send now are looked at this often
CONNECT_TIMEOUT = 10.0
STABLE_SECONDS = 30.0  # a connection up this long (or acknowledged) resets the backoff
PROGRESS_LOG_SECONDS = 10.0  # ack progress is logged at most this often (and when drained)
BATCH_BYTES = fp.MAX_MESSAGE_BYTES // 4  # a batch of large entries is cut shorter
ENTRY_OVERHEAD = 700  # the bytes of an entry around its payload, in a batch
FILE_CHECK_SECONDS = 2.0  # the database file is checked this often for a replacement
EXIT_REPLACED = 75  # the database file was replaced: start again on the new one (EX_TEMPFAIL)


class Agent:
    """The agent's loop on one thread (``run``); paho's network thread only fills the
    inbox. ``clock``: monotonic seconds; ``wall``: the time stamped on messages;
    ``random``: the backoff's uniform draw."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        random: Callable[[float, float], float] = random.uniform,
        poll: float = POLL_SECONDS,
        software: str | None = None,
        keys: AgentKeys | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.fleet: FleetSettings = settings.fleet
        self.tid = settings.terminal_id
        self.db = db
        self.clock = clock
        self.wall = wall
        self.poll = poll
        self.software = software or software_version()
        self.directory = agent_dir(settings.data_dir)
        self.backoff = Backoff(
            self.fleet.backoff_base_seconds, self.fleet.backoff_cap_seconds, random
        )
        self.inbox: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.topics = {
            kind: fp.topic(self.tid, kind) for kind in fp.MESSAGES if kind not in fp.ID_TOPICS
        }
        self.topics["down/job"] = fp.topic(self.tid, "down/job", "+")
        self.job_prefix = self.topics["down/job"][:-1]
        outbox.create(db)  # (made by the app's start too; here for an older app's database)
        fleet_config.create(db)
        fleet_jobs.create(db)
        self.link: MqttLink | None = None
        self.links = 0
        self.birth = 0
        self.connected_at = 0.0
        self.reconnect_at = clock()  # the first attempt at once
        self.mark = outbox.mark(db)
        self.head = outbox.head_seq(db)
        self.cursor = self.mark + 1  # the next seq to send
        self.sent_through = self.mark  # the highest seq sent on this connection
        self.noted_through = self.mark  # lockouts and fraud signals up to here were noted
        self.data_version: int | None = None
        self.last_progress = clock()
        self.last_resend: tuple[int, int] | None = None
        self.last_resend_at = 0.0
        self.truncation_reported = 0  # the fleet head a journal_truncated event was sent for
        self.events_sent = outbox.events_sent(db)
        self.events_waiting = True
        self.event_in_flight: tuple[int, int, int] | None = None  # (link, mid, event id)
        self.statuses_waiting = True  # configuration statuses to publish
        self.status_in_flight: tuple[int, int, int] | None = None  # (link, mid, status id)
        self.results_waiting = True  # job results to publish
        self.result_in_flight: tuple[int, int, int] | None = None  # (link, mid, result id)
        # send_now jobs waiting for the fleet to hold the journal: id -> (from, to, reported %)
        self.draining: dict[str, tuple[int, int, int]] = {
            row.id: (self.mark, self.head, 0) for row in fleet_jobs.running_jobs(db, "send_now")
        }
        self.link_error = ""  # why the last connection failed
        self.last_log = 0.0
        self.sent_entries = 0
        self.sent_batches = 0
        self.database_path = settings.database_path
        self.file = _identity(self.database_path)
        self.next_file_check = clock() + FILE_CHECK_SECONDS
        self.replaced = False  # the database file was replaced while it ran
        self.send_now_seen = 0
        self.logged_unsent = -1  # the unsent count the last progress line gave

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        log.info(
            "fleet agent for %s started: broker %s:%d, %d entries unsent",
            self.tid,
            self.fleet.host,
            self.fleet.port,
            max(0, self.head - self.mark),
        )
        try:
            while not self.stopping.is_set():
                self.step()
        finally:
            self._close()

    def stop(self) -> None:
        """From any thread or a signal handler: the loop ends at its next turn."""
        self.stopping.set()
        self.inbox.put(("stop", 0))

    def step(self) -> None:
        if self.clock() >= self.next_file_check:
            self._check_file()
        self._check_send_now()
        if self.link is None and self.clock() >= self.reconnect_at:
            self._connect()
        if self.link is not None:
            self._poll_database()
            self._pump()
            self._send_device_event()
            self._send_config_status()
            self._send_job_result()
            self._check_ack_timeout()
        self._handle_inbox(self.poll)

    def _handle_inbox(self, timeout: float) -> None:
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._handle(item)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _handle(self, item: tuple) -> None:
        kind, number = item[0], item[1]
        if self.link is None or number != self.link.number:
            return  # an older link's, or a stop
        if kind == "lost":
            self._lost(item[2])
        elif kind == "message":
            if item[2] == self.topics["down/ack"]:
                self._on_ack(item[3])
            elif item[2] == self.topics["down/cfg"]:
                self._on_config(item[3])
            elif item[2].startswith(self.job_prefix):
                self._on_job(item[2], item[3])
            else:
                log.warning("ignored a message on %s", item[2][:120])
        elif kind == "puback":
            flight = self.event_in_flight
            if flight is not None and flight[:2] == (number, item[2]):  # a device event's
                outbox.set_events_sent(self.db, flight[2])
                self.events_sent = flight[2]
                self.event_in_flight = None
            flight = self.status_in_flight
            if flight is not None and flight[:2] == (number, item[2]):  # a config status's
                fleet_config.set_sent(self.db, flight[2])
                self.status_in_flight = None
            flight = self.result_in_flight
            if flight is not None and flight[:2] == (number, item[2]):  # a job result's
                fleet_jobs.set_sent(self.db, flight[2])
                self.result_in_flight = None

    # -- connection ---------------------------------------------------------------------------
    def _state(self, status: str, config_version: int | None = None) -> bytes:
        return fp.encode(
            fp.State(
                status,
                self.birth,
                self.software,
                config_version,
                self.wall().isoformat(timespec="milliseconds"),
                # (online only: the Will and the goodbye need no key)
                public_hex(self.keys.secrets_key) if self.keys and status == "online" else "",
            )
        )

    def _config_version(self) -> int | None:
        rows = self.db.execute_sql("SELECT MAX(version) FROM shop_config").fetchall()
        return rows[0][0] if rows else None

    def _connect(self) -> None:
        self.birth = outbox.next_birth(self.db)
        self.links += 1
        link = MqttLink(self.links, self.fleet, self.tid, self.inbox)
        try:
            link.open(self.topics["state"], self._state("offline"), CONNECT_TIMEOUT)
            link.subscribe(self.topics["down/ack"], CONNECT_TIMEOUT)
            link.subscribe(self.topics["down/cfg"], CONNECT_TIMEOUT)
            link.subscribe(self.topics["down/job"], CONNECT_TIMEOUT)
        except LinkError as exc:
            link.abandon()
            self.link_error = str(exc)
            delay = self.backoff.next_delay()
            self.reconnect_at = self.clock() + delay
            log.warning(
                "fleet broker %s:%d not reached (%s); next attempt in %.1f s",
                self.fleet.host,
                self.fleet.port,
                exc,
                delay,
            )
            return
        self.link = link
        self.connected_at = self.last_progress = self.clock()
        self.cursor = self.mark + 1  # whatever was out before is sent again
        self.sent_through = self.mark
        self.data_version = None  # the head is read at once
        self.events_waiting = True
        self.event_in_flight = None
        self.statuses_waiting = True
        self.status_in_flight = None
        self.results_waiting = True
        self.result_in_flight = None
        self.last_resend = None
        link.publish(
            self.topics["state"], self._state("online", self._config_version()), retain=True
        )
        outbox.set_link(self.db, True, self.wall())
        self.head = outbox.head_seq(self.db)
        self.logged_unsent = max(0, self.head - self.mark)  # (its drain gets its own line)
        log.info(
            "connected to the fleet broker %s:%d as %s (birth %d), %d entries unsent",
            self.fleet.host,
            self.fleet.port,
            self.tid,
            self.birth,
            self.logged_unsent,
        )

    def _lost(self, reason: str) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.abandon()
        outbox.set_link(self.db, False, self.wall())
        if self.clock() - self.connected_at >= STABLE_SECONDS:
            self.backoff.reset()
        delay = self.backoff.next_delay()
        self.reconnect_at = self.clock() + delay
        log.warning(
            "disconnected from the fleet broker (%s), %d entries unsent; next attempt in %.1f s",
            reason,
            max(0, self.head - self.mark),
            delay,
        )

    def _close(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.close(goodbye=(self.topics["state"], self._state("offline")))
            outbox.set_link(self.db, False, self.wall())
        log.info("fleet agent stopped, %d entries unsent", max(0, self.head - self.mark))

    def _check_file(self) -> None:
        """A restore or a reset puts another file in place of the database: this
        connection would go on reading the old one. Stop, to be started on the new one
        (its mark is its own: at worst entries are sent again)."""
        self.next_file_check = self.clock() + FILE_CHECK_SECONDS
        if _identity(self.database_path) != self.file:
            log.warning("the database file was replaced (a restore?): the agent starts again")
            self.replaced = True
            self.stop()

    def _check_send_now(self) -> None:
        path = self.directory / SEND_NOW
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        try:
            path.unlink(missing_ok=True)
        except OSError:  # not ours to remove (another user's): each new touch counts once
            if stamp == self.send_now_seen:
                return
        self.send_now_seen = stamp
        self._send_now()

    def _send_now(self) -> None:
        self.data_version = None
        if self.link is None:
            log.info("send now: connecting to the fleet broker at once")
            self.reconnect_at = self.clock()
        else:
            self.head = outbox.head_seq(self.db)
            log.info("send now: %d entries unsent", max(0, self.head - self.mark))
            if self.sent_through > self.mark:  # out and not acknowledged: again, now
                self.cursor = self.mark + 1
                self.last_progress = self.clock()

    # -- the journal ---------------------------------------------------------------------------
    def _poll_database(self) -> None:
        # (every statement read to its end: none keeps a read transaction open, which
        # would hold back the app's checkpoints)
        version = self.db.execute_sql("PRAGMA data_version").fetchall()[0][0]
        if version != self.data_version:  # another connection (the app) committed
            self.data_version = version
            self.head = outbox.head_seq(self.db)
            self.events_waiting = True
            self.statuses_waiting = True
            self.results_waiting = True

    def _pump(self) -> None:
        """Send from the cursor on, batch after batch, as far as the in-flight limit."""
        fleet = self.fleet
        while self.link is not None and self.cursor <= self.head:
            room = self.mark + fleet.max_in_flight - self.cursor + 1
            if room <= 0:
                return
            entries = outbox.entries_from(self.db, self.cursor, min(fleet.batch_size, room))
            if not entries:
                return
            entries = _fit(entries)
            if self.sent_through <= self.mark:  # nothing was out: the Ack's clock starts
                self.last_progress = self.clock()
            last = entries[-1]["seq"]
            batch = fp.JournalBatch(
                self.tid, [fp.Entry(**entry) for entry in entries], max(self.head, last)
            )
            self.link.publish(self.topics["up/journal"], fp.encode(batch))
            self.cursor = last + 1
            self.sent_through = max(self.sent_through, last)
            self.sent_entries += len(entries)
            self.sent_batches += 1
            if last > self.noted_through:
                self._note(entries)

    def _note(self, entries: list[dict]) -> None:
        """Sent for the first time: a lockout or a fraud signal is an event too; a new
        shop configuration updates the presence's configuration version."""
        for entry in entries:
            if entry["seq"] <= self.noted_through:
                continue
            message = journal_message(entry)
            if message is not None:
                self.link.publish(self.topics["up/event"], fp.encode(message))
            elif entry["type"] == "config_change":
                version = json.loads(entry["payload_json"]).get("version")
                if isinstance(version, int) and version >= 0:
                    self.link.publish(
                        self.topics["state"], self._state("online", version), retain=True
                    )
        self.noted_through = entries[-1]["seq"]

    def _on_ack(self, payload: bytes) -> None:
        try:
            ack = fp.decode("down/ack", payload)
        except fp.BadMessage as exc:
            log.warning("ignored a malformed acknowledgement: %s", str(exc)[:200])
            return
        acked = ack.acked
        if acked > self.head:
            self.head = outbox.head_seq(self.db)
            if acked > self.head:
                log.error(
                    "the fleet holds this journal up to seq %d, past its head here %d: "
                    "entries were removed from this terminal's journal, or its database was "
                    "replaced by an older one (the fleet raises a 'truncated' alert); "
                    "taken as %d",
                    acked,
                    self.head,
                    self.head,
                )
                self._report_truncation(acked)
                acked = self.head
        if acked > self.mark:
            self.mark = outbox.set_mark(self.db, acked)
            self.last_progress = self.clock()
            self.backoff.reset()
            self._log_progress()
        self.cursor = max(self.cursor, self.mark + 1)
        self.sent_through = max(self.sent_through, self.mark)
        if ack.resend_from is not None:
            self._resend(ack.resend_from, ack.reason)

    def _report_truncation(self, fleet_head: int) -> None:
        """Tell the fleet admin, once per fleet head: the fleet holds entries this journal
        no longer has (its head is the anchor of the journal's end)."""
        if self.truncation_reported == fleet_head or self.link is None:
            return
        self.truncation_reported = fleet_head
        event = fp.Event(
            "journal_truncated",
            self.wall().isoformat(timespec="milliseconds"),
            "journal",
            f"the fleet holds seq {fleet_head}; this journal ends at seq {self.head}",
            fleet_head,
        )
        self.link.publish(self.topics["up/event"], fp.encode(event))

    def _resend(self, seq: int, reason: str) -> None:
        seq = max(seq, self.mark + 1)  # what the fleet acknowledged holding is not sent again
        if seq >= self.cursor:
            return  # not sent yet: it goes in its turn
        request = (seq, self.mark)
        now = self.clock()
        if (
            request == self.last_resend
            and now - self.last_resend_at < self.fleet.ack_timeout_seconds
        ):
            return  # the same request again (the fleet asks after each batch past a gap)
        self.last_resend, self.last_resend_at = request, now
        log.info("the fleet asks for the journal again from seq %d (%s)", seq, reason[:100])
        self.cursor = seq
        self.last_progress = now

    def _check_ack_timeout(self) -> None:
        if self.sent_through <= self.mark:
            return
        waited = self.clock() - self.last_progress
        if waited >= self.fleet.ack_timeout_seconds:
            log.warning(
                "no acknowledgement from the fleet for %.0f s: sending again from seq %d",
                waited,
                self.mark + 1,
            )
            self.cursor = self.mark + 1
            self.last_progress = self.clock()

    def _log_progress(self) -> None:
        """A line when a backlog is drained, and every PROGRESS_LOG_SECONDS while one is
        being sent; none for each sale sent as it is made."""
        now = self.clock()
        unsent = max(0, self.head - self.mark)
        if (not unsent and self.logged_unsent != 0) or (
            unsent and now - self.last_log >= PROGRESS_LOG_SECONDS
        ):
            self.last_log, self.logged_unsent = now, unsent
            log.info(
                "the fleet holds the journal up to seq %d, %d unsent "
                "(%d entries sent in %d batches)",
                self.mark,
                unsent,
                self.sent_entries,
                self.sent_batches,
            )

    # -- device health ----------------------------------------------------------------------
    def _send_device_event(self) -> None:
        if self.event_in_flight is not None or not self.events_waiting:
            return
        pending = outbox.device_events_after(self.db, self.events_sent, 1)
        if not pending:
            self.events_waiting = False
            return
        event = pending[0]
        mid = self.link.publish(self.topics["up/event"], fp.encode(device_message(event)))
        self.event_in_flight = (self.link.number, mid, event.id)

    # -- signed configuration ----------------------------------------------------------------
    def _on_config(self, payload: bytes) -> None:
        """A bundle on ``down/cfg`` (retained: again at each connection, handled once):
        checked (key list, then every document), then handed to the app through the
        database; a refusal is a status row (published here, journaled by the app)."""
        digest = config_check.bundle_hash(payload)
        held = fleet_config.state(self.db)
        if digest == held.last_bundle:
            return
        now = self.wall()
        try:
            trust = config_check.load_trust(self.fleet, held)
            checked = config_check.check_bundle(
                payload,
                trust,
                terminal_id=self.tid,
                group=self.fleet.group,
                applied=held.applied,
                now=now,
            )
            hashes = {}
            if self.keys is not None:  # the PINs and codes hashed on arrival
                hashes = config_check.hashed_secrets(
                    checked, self.tid, self.keys.secrets_key, self.keys.hasher
                )
            elif checked.secrets:
                log.warning("PINs from the fleet not opened: this agent runs without the keys")
        except ConfigRefused as exc:
            log.warning("configuration from the fleet refused (%s): %s", exc.reason, exc.message)
            status = config_check.status(
                "refused",
                now,
                reason=exc.reason,
                message=exc.message,
                rollout=config_check.rollout_of(payload),
            )
            with self.db.atomic():
                fleet_config.add_status(self.db, status, journaled=False)
                fleet_config.set_last_bundle(self.db, digest)
        else:
            with self.db.atomic():
                if checked.key_list_changed:
                    fleet_config.set_key_list(self.db, trust.key_list_envelope, trust.revoked)
                fleet_config.put_bundle(self.db, payload, now, hashes)
                fleet_config.set_last_bundle(self.db, digest)
            log.info("configuration from the fleet verified (%s)", checked.source)
        self.statuses_waiting = True

    def _send_config_status(self) -> None:
        if self.status_in_flight is not None or not self.statuses_waiting:
            return
        pending = fleet_config.unsent_statuses(self.db, 1)
        if not pending:
            self.statuses_waiting = False
            return
        row = pending[0]
        mid = self.link.publish(self.topics["up/cfg-status"], row.status)
        self.status_in_flight = (self.link.number, mid, row.id)

    # -- jobs from the fleet -----------------------------------------------------------------
    def _on_job(self, topic: str, payload: bytes) -> None:
        """A job on ``down/job/{id}`` (retained: again at each connection, run once)."""
        jobs.receive(self.db, self.tid, topic, payload, self.wall(), self._run_job, self.wall)
        self.results_waiting = True

    def _run_job(self, job: fp.Job, report: jobs.Report) -> dict[str, str] | jobs.Outcome:
        if job.kind == "send_now":
            self._send_now()
            self.head = max(self.head, outbox.head_seq(self.db))
            unsent = max(0, self.head - self.mark)
            if not unsent:
                return {"unsent": "0"}
            self.draining[job.id] = (self.mark, self.head, 0)
            return jobs.Outcome("running", f"{unsent} entries to send", progress=0)
        if job.kind == "diagnostics":
            report(0, "collecting")
            data = jobs.diagnostics(self.db, self.software, self.link is not None)
            if self.link is not None and self.link.certificate_serial:
                data["certificate_serial"] = self.link.certificate_serial
            return data
        if job.kind == "rotate_certificate":
            try:
                csr = certificate.new_request(self.fleet, self.tid)
            except (certificate.CertificateRefused, OSError) as exc:
                raise jobs.JobRefused(f"no key made: {exc}") from None
            log.info("job %s: a new MQTT key made; its certificate request sent", job.id)
            return jobs.Outcome(
                "running", "a new key made; waiting for its certificate", progress=50, csr=csr
            )
        if job.kind == "install_certificate":
            return self._install_certificate(job, report)
        raise ValueError(f"not an agent job: {job.kind}")

    def _install_certificate(self, job: fp.Job, report: jobs.Report) -> jobs.Outcome:
        """Checked (nothing changes if it is not for the waiting key, this terminal and
        the fleet CA), swapped in, tried on a new connection; the old pair put back and
        connected with when the broker refuses it."""
        try:
            # (the real time, not the agent's clock: the broker checks the validity so)
            now = datetime.now(UTC)
            new = certificate.check(self.fleet, self.tid, job.certificate, now)
        except certificate.CertificateRefused as exc:
            log.warning("job %s: certificate refused: %s", job.id, exc)
            raise jobs.JobRefused(str(exc)) from None
        old_serial = certificate.serial_of(self.fleet.cert_file)
        serial = format(new.serial_number, "x")
        rotation = self._rotation_of(job)
        report(60, f"certificate {serial} checked; reconnecting with it")
        certificate.install(self.fleet, new)
        self._reconnect()
        if self.link is None:
            reason = self.link_error
            certificate.restore(self.fleet)
            self._reconnect()
            log.error(
                "job %s: the broker refused the new certificate %s (%s): the old one is back",
                job.id,
                serial,
                reason,
            )
            detail = (
                f"the broker refused the new certificate {serial} ({reason[:200]}); "
                f"the old one ({old_serial}) is back in use"
            )
            if rotation is not None:
                jobs.finish(self.db, rotation.id, rotation.kind, self.wall(), "failed", detail)
            return jobs.Outcome("failed", detail)
        log.info("job %s: connected with the new certificate %s", job.id, serial)
        if rotation is not None:
            jobs.finish(
                self.db,
                rotation.id,
                rotation.kind,
                self.wall(),
                "done",
                f"certificate {serial} installed by job {job.id}",
                {"serial": serial, "previous_serial": old_serial},
            )
        return jobs.Outcome(
            "done",
            f"connected with certificate {serial} (was {old_serial})",
            {"serial": serial, "previous_serial": old_serial},
        )

    def _rotation_of(self, job: fp.Job) -> fleet_jobs.JobRow | None:
        """The ``rotate_certificate`` job waiting for this certificate: the one the job
        names, else the latest one under way."""
        waiting = fleet_jobs.running_jobs(self.db, "rotate_certificate")
        named = [row for row in waiting if row.id == job.text]
        return (named or waiting[-1:] or [None])[0]

    def _reconnect(self) -> None:
        """The link closed cleanly and opened again at once (with the files as they are
        now); ``self.link`` is None when the new connection failed."""
        link, self.link = self.link, None
        if link is not None:
            link.close(goodbye=(self.topics["state"], self._state("offline")))
        self._connect()

    def _drain_jobs(self) -> None:
        """``send_now`` jobs: a step each 10% of the journal the fleet acknowledged, then
        done once it holds everything up to the head the job saw."""
        for job_id, (start, target, reported) in list(self.draining.items()):
            if self.mark >= target:
                del self.draining[job_id]
                jobs.finish(
                    self.db,
                    job_id,
                    "send_now",
                    self.wall(),
                    "done",
                    f"the fleet holds the journal up to seq {self.mark}",
                    {"unsent": str(max(0, self.head - self.mark))},
                )
                self.results_waiting = True
                continue
            percent = max(0, min(99, (self.mark - start) * 100 // max(1, target - start)))
            if percent >= reported + 10:
                self.draining[job_id] = (start, target, percent)
                jobs.add_step(
                    self.db,
                    job_id,
                    "send_now",
                    self.wall(),
                    percent,
                    f"{target - self.mark} entries to send",
                )
                self.results_waiting = True

    def _send_job_result(self) -> None:
        if self.draining:
            self._drain_jobs()
        if self.result_in_flight is not None or not self.results_waiting:
            return
        pending = fleet_jobs.unsent_results(self.db, 1)
        if not pending:
            self.results_waiting = False
            return
        row = pending[0]
        mid = self.link.publish(fp.topic(self.tid, "up/job", row.job_id), row.result)
        self.result_in_flight = (self.link.number, mid, row.id)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _fit(entries: list[dict]) -> list[dict]:
    """As many of ``entries`` as fit in :data:`BATCH_BYTES` (at least one)."""
    size = 0
    for count, entry in enumerate(entries):
        size += len(entry["payload_json"].encode()) + ENTRY_OVERHEAD
        if size > BATCH_BYTES and count:
            return entries[:count]
    return entries


# -- the process ------------------------------------------------------------------------------
def check_credentials(settings: Settings) -> None:
    """The files ``[fleet]`` names are there, and the certificate is this terminal's (its
    common name is the terminal id: the broker's ACLs give it its own topics by that
    name). Raises ConfigError naming the key."""
    fleet = settings.fleet
    for key in ("ca_file", "cert_file", "key_file"):
        path: Path = getattr(fleet, key)
        if not path.is_file():
            raise ConfigError(f"fleet.{key}: no such file {path}")
        if not os.access(path, os.R_OK):
            raise ConfigError(f"fleet.{key}: {path} cannot be read by this user")
    try:
        certificate = x509.load_pem_x509_certificate(fleet.cert_file.read_bytes())
    except ValueError:
        raise ConfigError(f"fleet.cert_file: {fleet.cert_file} is not a PEM certificate") from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = names[0].value if names else ""
    if name != settings.terminal_id:
        raise ConfigError(
            f"fleet.cert_file: the certificate is made out to {name!r}, not to this "
            f"terminal ({settings.terminal_id!r})"
        )


class AgentLock:
    """One agent per terminal: an exclusive ``flock`` on ``<data_dir>/agent/agent.lock``
    for as long as it runs (the app tries it to know whether the agent runs; the kernel
    drops it with the process)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.fd: int | None = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, wait: float = 2.0) -> bool:
        """Retried for ``wait`` seconds: the app's probe holds it for a moment."""
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # (the lock goes with it)
            self.fd = None


@dataclass(frozen=True)
class AgentKeys:
    """What the agent needs of the key store besides the database key: the terminal's
    X25519 key (secrets from the fleet are sealed to it; its public half goes in the
    state) and the PIN hasher with the pepper (they are hashed on arrival)."""

    secrets_key: X25519PrivateKey
    hasher: PinHasher


def _open_keys(settings: Settings) -> KeyStore:
    return KeyStore.open_existing(settings.security.key_dir, protector_for(settings.security))


def agent_keys(keys: KeyStore) -> AgentKeys:
    return AgentKeys(terminal_key(keys.key("sealing")), PinHasher(keys.key("pin_pepper")))


def open_agent_database(settings: Settings, keys: KeyStore | None = None) -> Database:
    """The terminal's database beside the app: its key from the key store, read and never
    written (no key store is made, no memory written); the file must be there already.
    Raises KeyStoreError or DatabaseUnusable while the terminal was never started."""
    keys = keys or _open_keys(settings)
    db = open_beside(settings.database_path, keys.key("database"))
    if not db.table_exists("journal"):
        db.close()
        raise DatabaseUnusable(f"{settings.database_path} has no journal yet")
    return db


def wait_for_database(
    settings: Settings, stopping: threading.Event, every: float = 2.0
) -> tuple[Database, AgentKeys] | None:
    """The database and the keys the agent uses, once the terminal made them (its first
    start); None when asked to stop meanwhile."""
    said = False
    while not stopping.is_set():
        try:
            keys = _open_keys(settings)
            return open_agent_database(settings, keys), agent_keys(keys)
        except (KeyStoreError, DatabaseUnusable) as exc:
            if not said:
                log.warning("waiting for the terminal's database (start the terminal): %s", exc)
                said = True
        stopping.wait(every)
    return None


def run_agent(settings: Settings, stopping: threading.Event | None = None, **options) -> int:
    """The agent's process (or a thread, in tests): returns the exit status. ``stopping``
    ends it (the CLI sets it on SIGTERM or SIGINT)."""
    if not settings.fleet.enabled:
        log.info("the fleet is off ([fleet] enabled = false): the agent has nothing to do")
        return 0
    if certificate.repair(settings.fleet):
        log.warning("a certificate rotation was cut short: the MQTT key pair was repaired")
    check_credentials(settings)
    stopping = stopping or threading.Event()
    lock = AgentLock(agent_dir(settings.data_dir))
    if not lock.acquire():
        log.error("another fleet agent runs for this terminal (%s)", lock_path(settings))
        lock.release()
        return 3
    try:
        opened = wait_for_database(settings, stopping)
        if opened is None:
            return 0
        db, keys = opened
        agent = Agent(settings, db, keys=keys, **options)
        watcher = threading.Thread(
            target=lambda: (stopping.wait(), agent.stop()), name="agent-stop", daemon=True
        )
        watcher.start()
        try:
            agent.run()
        finally:
            db.close()
        return EXIT_REPLACED if agent.replaced else 0
    finally:
        lock.release()


def lock_path(settings: Settings) -> Path:
    return agent_dir(settings.data_dir) / LOCK
