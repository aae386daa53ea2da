"""The fleet's ingest: journal batches, presence and device events from the terminals,
verified, stored once, and answered.

The MQTT server hands every message to :meth:`Ingest.raw` (topic and bytes) and publishes
the :class:`~terminal.core.fleet_protocol.Ack` it returns on ``pos/v1/{tid}/down/ack``.
Nothing here speaks MQTT.

**A journal batch** (:meth:`Ingest.journal`) is checked entry by entry, in order, against
the terminal's contiguous head as the fleet holds it (``acked_seq``/``acked_hash``):

- ``seq <= head``: held already with the same hash: a duplicate (a replayed or
  redelivered batch), skipped and counted. Other content for a held seq: a *conflict*,
  quarantined, alert; the rest of the batch is still looked at.
- ``seq == head + 1``: it must link to the head (``prev_hash``; genesis for seq 1), hash
  to its ``hash`` and carry a good Ed25519 signature by a key registered for the terminal
  (by its key id). An ``epoch_start`` that begins a new epoch links instead to the
  previous epoch's head its payload names, which must be the fleet's head.
- ``seq > head + 1``: a *gap* (an entry missing, or the batch reordered), unless it is an
  ``epoch_start`` whose ``previous`` lies at or beyond the head with a good signature: a
  *declared gap* (the previous epoch's entries after the head were lost with the old
  terminal), stored, with an alert.

The first entry refused for a gap, a broken link, a hash mismatch, an unknown key, a bad
signature or a payload that is not canonical JSON is quarantined with an alert, and the
rest of the batch is not looked at (it comes again with the resend). Good entries are
stored (with their central rows, :mod:`fleet.central`) and the head moves, all in one
transaction per batch; the :class:`Ack` is returned only after its COMMIT:

==================================  ===========  ===============  =============================
case                                ``acked``    ``resend_from``  ``reason``
==================================  ===========  ===============  =============================
all stored or held already          head         None             ""
a gap, refused entry or conflict    head         head + 1         what was refused, and why
unknown (unregistered) terminal     0            None             "unknown terminal"
topic and batch name other ids      head (or 0)  None             "terminal id mismatch ..."
==================================  ===========  ===============  =============================

An unknown terminal is not told to resend (it has nothing the fleet would take until it
is registered; its agent keeps every entry and sends again later); the fleet raises an
alert so that an admin registers it. A batch on one terminal's topic that names another
terminal is refused whole: the broker's ACLs make the topic the authenticated identity.

**Concurrency.** Several ingest processes may share a subscription and get batches of
the same terminal. Each batch runs in one transaction that first locks the terminal's
row (``SELECT ... FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite, which takes
the database's write lock), so reading the head and inserting after it are one step;
the second batch sees the first's entries as duplicates. A unique-constraint violation
or a lost lock (deadlock, busy) rolls the batch back and it is tried again; the
signatures are checked before the lock is taken, so it is held only for the inserts.

**Alerts** (:class:`~fleet.models.Alert`): one per kind and batch, counted again on the
open alert of the same kind rather than repeated. A ``gap`` alert closes by itself once
a later batch fills the gap (reordering between instances makes them); a bad signature,
hash mismatch, broken link, unknown key or conflict stays open for the admin. A sale
whose payload the central rules cannot read is stored all the same (alert ``central``).

**Errors.** A malformed message is refused as a whole (logged; an alert for a journal
batch of a registered terminal) and :meth:`Ingest.raw` returns None. Only a failing
database (after retries) raises, so the server can leave the MQTT message
unacknowledged and reconnect. A unique-constraint violation that persists after the
retries (a row written behind the ingest's back) is answered with the head held and an
``ingest error`` alert, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import peewee
from cryptography.hazmat.primitives import serialization
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from fleet.central import CentralRows
from fleet.db import bulk_insert, is_postgres, write_transaction
from fleet.models import (
    Alert,
    DeviceEvent,
    Entry,
    JobProgress,
    JobTarget,
    Quarantine,
    Rollout,
    RolloutTarget,
    Terminal,
    TerminalConfig,
)
from fleet.registry import record_secrets_key, terminal_keys
from terminal.core import fleet_protocol as fp
from terminal.core.clock import Clock, system_clock
from terminal.store.journal_format import EPOCH_START, canonical_json, entry_hash

log = logging.getLogger(__name__)

# device health: an alert each; ``device_ok`` closes the open ones of that device
DEVICE_KINDS = (
    frozenset(fp.EVENT_KINDS) - {"device_ok", "fraud_signal", "lockout"} - {"journal_truncated"}
)
# the terminal found its journal behind the fleet's head: entries were removed, or an
# older database was put back (the fleet's head is the anchor of the journal's end)
ALERT_EVENT_KINDS = DEVICE_KINDS | {"fraud_signal", "lockout", "journal_truncated"}
INBOUND = ("up/journal", "state", "up/event", "up/cfg-status", "up/job")
FINAL_RESULTS = ("applied", "refused")  # a rollout's wave waits for one of these
_ROLLOUT_ID = re.compile(r"[0-9]{1,18}")  # as the fleet writes it in a bundle (ASCII digits)
VERIFY_CHUNK = 50  # signatures per task when a batch's are checked on several cores
_VERIFIERS = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), "verify")
_PAYLOAD_DECODER = msgspec.json.Decoder()
_FAST_ENCODER = msgspec.json.Encoder(order="sorted")
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
_ENTRY_FIELDS = [
    Entry.terminal_id,
    Entry.seq,
    Entry.epoch,
    Entry.key_id,
    Entry.type,
    Entry.ts,
    Entry.grand_total,
    Entry.payload_json,
    Entry.prev_hash,
    Entry.hash,
    Entry.signature,
    Entry.stored_at,
]
_QUARANTINE_FIELDS = [
    Quarantine.terminal_id,
    Quarantine.epoch,
    Quarantine.seq,
    Quarantine.reason,
    Quarantine.detail,
    Quarantine.entry_json,
    Quarantine.received_at,
]


def _clean(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def _short(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


@dataclass
class _Checked:
    """An entry with what can be checked before the terminal's row is locked."""

    entry: fp.Entry
    digest: bytes  # entry_hash(its prev_hash, its document)
    signature_ok: bool | None = None  # None: not checked yet
    key_known: bool = False
    payload: dict | None = None
    payload_problem: str | None = None
    parsed: bool = False


@dataclass
class _Refusal:
    reason: str  # gap, conflict, broken link, hash mismatch, unknown key, bad signature, ...
    detail: str


def parse_payload(text: str) -> tuple[dict | None, str | None]:
    """The payload object of an entry, or why it is refused: it must be a JSON object in
    its canonical form (what the terminal signs), so that it reads one way only.

    The canonical form is ``canonical_json``'s; msgspec (several times faster) settles
    the usual case, a payload it decodes to an object and encodes back to the very same
    text, and anything else is judged by the json module as before."""
    try:
        value = _PAYLOAD_DECODER.decode(text)
        if isinstance(value, dict) and _FAST_ENCODER.encode(value) == text.encode():
            return value, None
    except (msgspec.DecodeError, RecursionError, UnicodeEncodeError):
        pass
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None, "the payload is not JSON"
    if not isinstance(value, dict):
        return None, "the payload is not a JSON object"
    try:
        canonical = canonical_json(value).decode()
    except (ValueError, RecursionError):
        return None, "the payload is not canonical JSON"
    if canonical != text:
        return None, "the payload is not in canonical form"
    return value, None


def _previous_head(payload: dict | None) -> tuple[int, int, str] | None:
    """(epoch, seq, hash) an epoch start names as the previous epoch's head."""
    try:
        previous = payload["previous"]
        epoch, seq, digest = previous["epoch"], previous["seq"], previous["hash"]
    except (KeyError, TypeError):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (epoch, seq)):
        return None
    if not isinstance(digest, str) or len(digest) != 64 or epoch < 1 or seq < 0:
        return None
    try:
        bytes.fromhex(digest)
    except ValueError:
        return None
    return epoch, seq, digest


class Ingest:
    """Verifies and stores what the terminals send. One per process (or several: see the
    module's docstring); thread-safe as far as peewee's per-thread connections go."""

    def __init__(
        self, db: peewee.Database, clock: Clock = system_clock, *, retries: int = 8
    ) -> None:
        self.db = db
        self.clock = clock
        self.retries = retries
        self.stats: Counter[str] = Counter()
        self._keys: dict[str, dict[str, bytes]] = {}  # terminal -> key id -> raw key
        self._cache = threading.Lock()

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(tzinfo=None)

    # -- the MQTT server's entry point -------------------------------------------------------
    def raw(self, topic: str, payload: bytes) -> fp.Ack | JobDone | None:
        """Handle one MQTT message. A journal batch returns the Ack to publish on the
        terminal's ``down/ack``; a job's final result returns :class:`JobDone` (its
        retained job is cleared); anything else (presence, events, a refused message)
        returns None."""
        if not isinstance(topic, str):
            log.warning("ignored a message whose topic is not text: %r", type(topic).__name__)
            self.stats["bad topic"] += 1
            return None
        if isinstance(payload, bytearray | memoryview):
            payload = bytes(payload)
        if not isinstance(payload, bytes):
            log.warning("ignored a message on %s whose payload is not bytes", _short(topic, 120))
            self.stats["bad message"] += 1
            return None
        try:
            terminal_id, kind, job_id = fp.parse_job_topic(topic)
        except fp.BadMessage as exc:
            log.warning("ignored a message on an unknown topic: %s", exc)
            self.stats["bad topic"] += 1
            return None
        if kind not in INBOUND:
            return None  # our own down/ack, if the subscription sees it
        try:
            message = fp.decode(kind, payload)
            if kind == "up/job" and message.id != job_id:
                raise fp.BadMessage(f"up/job: the result of {message.id} on {job_id}'s topic")
        except ValueError as exc:  # BadMessage (and any decoding error it may miss)
            text = _short(str(exc), 300)
            log.warning("refused a %s message from %s: %s", kind, terminal_id, text)
            self.stats["bad message"] += 1
            if kind == "up/journal":
                self._bad_batch(terminal_id, text)
            return None
        if kind == "up/journal":
            return self.journal(terminal_id, message)
        if kind == "state":
            self.state(terminal_id, message)
        elif kind == "up/cfg-status":
            self.config_status(terminal_id, message)
        elif kind == "up/job":
            return self.job_result(terminal_id, message)
        else:
            self.event(terminal_id, message)
        return None

    def _bad_batch(self, terminal_id: str, text: str) -> None:
        now = self._now()

        def work() -> None:
            with write_transaction(self.db):
                if self._terminal(terminal_id) is not None:
                    detail = f"a journal batch refused: {text}"
                    self._alert(terminal_id, "bad message", detail, now)

        self._retrying(f"bad batch of {terminal_id}", work)

    # -- journal batches ------------------------------------------------------------------
    def journal(self, terminal_id: str, batch: fp.JournalBatch) -> fp.Ack:
        """Verify and store ``batch`` from ``terminal_id`` (the topic's, which the broker
        authenticated); the Ack is returned after the COMMIT."""
        now = self._now()
        strangers = {batch.terminal_id} | {e.terminal_id for e in batch.entries}
        strangers.discard(terminal_id)
        if strangers:
            return self._mismatch(terminal_id, sorted(strangers), now)
        checked: list[_Checked] | None = None
        for attempt in range(1, self.retries + 1):
            try:
                if checked is None:
                    snapshot = (
                        Terminal.select(Terminal.acked_seq)
                        .where(Terminal.id == terminal_id)
                        .tuples()
                        .bind(self.db)
                        .first()
                    )
                    if snapshot is None:
                        return self._unknown_terminal(terminal_id, now)
                    checked = self._precheck(terminal_id, batch.entries, above=snapshot[0])
                with write_transaction(self.db):
                    ack = self._store(terminal_id, batch, checked, now)
                return ack  # committed
            except peewee.IntegrityError as exc:  # another instance stored first: again
                log.info("batch of %s: %s; trying again (%d)", terminal_id, exc, attempt)
                self.stats["retries"] += 1
                if attempt == self.retries:
                    return self._gave_up(terminal_id, exc, now)
                self._pause(attempt)
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                self._database_trouble(f"batch of {terminal_id}", exc, attempt)
        raise AssertionError("unreachable")

    def _pause(self, attempt: int) -> None:
        time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))

    def _database_trouble(self, what: str, exc: Exception, attempt: int) -> None:
        """A deadlock, a busy database or a lost connection: drop the connection (the
        next query opens a new one) and wait a little; raise after the last attempt."""
        log.warning("%s: %s; trying again (%d)", what, str(exc).strip(), attempt)
        self.stats["retries"] += 1
        if not self.db.in_transaction():
            with contextlib.suppress(peewee.PeeweeException):
                self.db.close()
        if attempt == self.retries:
            raise exc
        self._pause(attempt)

    def _retrying(self, what: str, work) -> None:
        for attempt in range(1, self.retries + 1):
            try:
                return work()
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                self._database_trouble(what, exc, attempt)
        return None

    def _mismatch(self, terminal_id: str, strangers: list[str], now: datetime) -> fp.Ack:
        names = ", ".join(strangers[:3]) + (" ..." if len(strangers) > 3 else "")
        detail = f"a batch on {terminal_id}'s topic names {names}: nothing stored"
        log.warning(detail)
        self.stats["mismatch"] += 1
        with write_transaction(self.db):
            self._alert(terminal_id, "terminal mismatch", detail, now)
            held = self._terminal(terminal_id)
        return fp.Ack(
            acked=held.acked_seq if held else 0, reason=_short(f"terminal id mismatch: {names}")
        )

    def _unknown_terminal(self, terminal_id: str, now: datetime) -> fp.Ack:
        log.warning("a journal batch from %s, which is not registered", terminal_id)
        self.stats["unknown terminal"] += 1
        with write_transaction(self.db):
            self._alert(
                terminal_id,
                "unknown terminal",
                f"{terminal_id} sends its journal but is not registered (pos-fleet terminal add)",
                now,
            )
        return fp.Ack(acked=0, reason="unknown terminal")

    def _gave_up(self, terminal_id: str, exc: Exception, now: datetime) -> fp.Ack:
        log.error("batch of %s not stored after %d tries: %s", terminal_id, self.retries, exc)
        with write_transaction(self.db):
            self._alert(terminal_id, "ingest error", _short(f"batch not stored: {exc}", 500), now)
            held = self._terminal(terminal_id)
        return fp.Ack(acked=held.acked_seq if held else 0, reason="not stored: database error")

    def _keys_of(self, terminal_id: str, wanted: Iterable[str]) -> dict[str, bytes]:
        """The terminal's raw public keys by id, from the cache; read again when a key id
        is not in it (a key registered since)."""
        with self._cache:
            keys = self._keys.get(terminal_id)
        if keys is None or any(kid not in keys for kid in wanted):
            keys = {
                kid: key.public_bytes(*_RAW)
                for kid, key in terminal_keys(self.db, terminal_id).items()
            }
            with self._cache:
                self._keys[terminal_id] = keys
        return keys

    def forget_keys(self, terminal_id: str | None = None) -> None:
        """Drop the cached keys (of one terminal, or all)."""
        with self._cache:
            if terminal_id is None:
                self._keys.clear()
            else:
                self._keys.pop(terminal_id, None)

    def _precheck(self, terminal_id: str, entries: list[fp.Entry], *, above: int) -> list[_Checked]:
        """Hash every entry; check the signatures (the costly part) and payloads of those
        after ``above`` (the head before the lock: the head only goes up, so the others
        can only be duplicates or conflicts), before any lock is taken."""
        keys = self._keys_of(terminal_id, {e.key_id for e in entries if e.seq > above})
        checked = [
            _Checked(entry, entry_hash(bytes.fromhex(entry.prev_hash), entry.as_journal_entry()))
            for entry in entries
        ]
        fresh = [item for item in checked if item.entry.seq > above]
        if len(fresh) >= 2 * VERIFY_CHUNK:  # libsodium runs without the GIL: on every core
            chunks = [fresh[i : i + VERIFY_CHUNK] for i in range(0, len(fresh), VERIFY_CHUNK)]
            list(_VERIFIERS.map(lambda chunk: self._check_signatures(chunk, keys), chunks))
        else:
            self._check_signatures(fresh, keys)
        return checked

    @classmethod
    def _check_signatures(cls, items: list[_Checked], keys: dict[str, bytes]) -> None:
        for item in items:
            cls._check_signature(item, keys)

    @staticmethod
    def _check_signature(item: _Checked, keys: dict[str, bytes]) -> None:
        entry = item.entry
        key = keys.get(entry.key_id)
        item.key_known = key is not None
        if key is None or item.digest.hex() != entry.hash:
            item.signature_ok = False
            return
        try:
            crypto_sign_open(bytes.fromhex(entry.signature) + item.digest, key)
            item.signature_ok = True
        except (BadSignatureError, ValueError):
            item.signature_ok = False

    @staticmethod
    def _payload(item: _Checked) -> dict | None:
        if not item.parsed:
            item.payload, item.payload_problem = parse_payload(item.entry.payload_json)
            item.parsed = True
        return item.payload

    def _store(
        self, terminal_id: str, batch: fp.JournalBatch, checked: list[_Checked], now: datetime
    ) -> fp.Ack:
        """Inside the batch's transaction: lock, walk, insert, move the head."""
        term = self._terminal(terminal_id, lock=True)
        if term is None:
            return self._unknown_terminal(terminal_id, now)
        head_seq, head_hash, head_epoch = term.acked_seq, term.acked_hash, term.acked_epoch
        behind = [c.entry.seq for c in checked if c.entry.seq <= head_seq]
        held = self._held_hashes(terminal_id, behind) if behind else {}
        central = CentralRows(terminal_id, term.store, term.timezone)
        stored: list[tuple] = []
        quarantined: list[tuple] = []
        alerts: list[tuple[str, str]] = []
        duplicates = 0
        first_problem: str | None = None
        for position, item in enumerate(checked):
            entry = item.entry
            if entry.seq <= head_seq:
                known = held.get(entry.seq)
                if known == entry.hash and item.digest.hex() == entry.hash:
                    duplicates += 1
                    continue
                refusal = (
                    _Refusal(
                        "conflict",
                        f"seq {entry.seq} is not the entry held (held {known[:8]}, "
                        f"received {entry.hash[:8]})",
                    )
                    if known is not None
                    else _Refusal(
                        "conflict",
                        f"seq {entry.seq} lies in a declared gap: no entry may fill it",
                    )
                )
                quarantined.append(self._quarantine_row(terminal_id, entry, refusal, now))
                alerts.append((refusal.reason, refusal.detail))
                first_problem = first_problem or f"conflict: {refusal.detail}"
                continue
            verdict = self._judge(terminal_id, item, head_seq, head_hash, head_epoch)
            if isinstance(verdict, _Refusal):
                left = len(checked) - position - 1
                detail = verdict.detail + (
                    f" ({left} later entr{'y' if left == 1 else 'ies'} of the batch not looked at)"
                    if left
                    else ""
                )
                quarantined.append(
                    self._quarantine_row(terminal_id, entry, _Refusal(verdict.reason, detail), now)
                )
                alerts.append((verdict.reason, detail))
                first_problem = first_problem or f"{verdict.reason}: {verdict.detail}"
                break
            note = verdict
            if note:
                alerts.append(("declared gap", note))
            payload = self._payload(item)
            stored.append(
                (
                    terminal_id,
                    entry.seq,
                    entry.epoch,
                    entry.key_id,
                    entry.type,
                    entry.ts,
                    entry.grand_total,
                    entry.payload_json,
                    entry.prev_hash,
                    entry.hash,
                    entry.signature,
                    now,
                )
            )
            problem = central.add(entry, payload)
            if problem:
                alerts.append(("central", f"no central rows for {problem}"))
            head_seq, head_hash, head_epoch = entry.seq, entry.hash, entry.epoch
            held[entry.seq] = entry.hash
        bulk_insert(self.db, Entry, _ENTRY_FIELDS, stored)
        if stored:
            try:
                with self.db.atomic():  # a savepoint: central rows never cost the entries
                    # a sale of an online order that is not paid (sold twice, another
                    # store's): the sale stands as the terminal made it; an admin looks
                    alerts += [("online order", problem) for problem in central.flush(self.db)]
            except peewee.IntegrityError as exc:
                alerts.append(("central", _short(f"central rows not built: {exc}", 500)))
        bulk_insert(self.db, Quarantine, _QUARANTINE_FIELDS, quarantined)
        raised: dict[str, tuple[str, int]] = {}  # one alert per kind a batch: its first
        for kind, detail in alerts:
            first, times = raised.get(kind, (detail, 0))
            raised[kind] = (first, times + 1)
        for kind, (detail, times) in raised.items():
            more = f" (and {times - 1} more in this batch)" if times > 1 else ""
            self._alert(terminal_id, kind, detail + more, now, times=times)
        if stored and "gap" not in raised:  # the gap is filled: its alert is done
            Alert.update(resolved=True).where(
                (Alert.terminal_id == terminal_id)
                & (Alert.kind == "gap")
                & (Alert.resolved == False)  # noqa: E712
            ).execute(self.db)
        Terminal.update(
            acked_seq=head_seq,
            acked_hash=head_hash,
            acked_epoch=head_epoch,
            reported_head=peewee.fn.MAX(Terminal.reported_head, batch.head)
            if not is_postgres(self.db)
            else peewee.fn.GREATEST(Terminal.reported_head, batch.head),
            duplicates=Terminal.duplicates + duplicates,
            last_seen=now,
        ).where(Terminal.id == terminal_id).execute(self.db)
        self.stats["stored"] += len(stored)
        self.stats["duplicates"] += duplicates
        self.stats["quarantined"] += len(quarantined)
        if stored and log.isEnabledFor(logging.DEBUG):
            log.debug("%s: stored %d, head %d", terminal_id, len(stored), head_seq)
        if first_problem:
            return fp.Ack(acked=head_seq, resend_from=head_seq + 1, reason=_short(first_problem))
        return fp.Ack(acked=head_seq)

    def _judge(
        self, terminal_id: str, item: _Checked, head_seq: int, head_hash: str, head_epoch: int
    ) -> _Refusal | str | None:
        """Whether an entry after the head goes on from it: a refusal, or None (good), or
        the note of a declared gap (good too)."""
        entry = item.entry
        current = max(head_epoch, 1)  # the epoch of the chain held (1 before any entry)
        note = None
        if entry.epoch < current:
            return _Refusal(
                "broken link", f"seq {entry.seq}: epoch {entry.epoch} after epoch {current}"
            )
        if entry.epoch > current:
            if entry.type != EPOCH_START:
                return _Refusal(
                    "broken link",
                    f"seq {entry.seq}: epoch {entry.epoch} does not begin with an epoch start",
                )
            linked = self._epoch_link(item, head_seq, head_hash, head_epoch)
            if isinstance(linked, _Refusal):
                return linked
            expected_prev, note = linked
        else:
            if entry.seq != head_seq + 1:
                return _Refusal(
                    "gap",
                    f"seq {entry.seq} received; the fleet holds up to seq {head_seq}: "
                    f"{_span(head_seq + 1, entry.seq - 1)} missing",
                )
            expected_prev = head_hash
        if entry.prev_hash != expected_prev:
            return _Refusal(
                "broken link", f"seq {entry.seq} does not follow the entry held at seq {head_seq}"
            )
        if item.digest.hex() != entry.hash:
            return _Refusal("hash mismatch", f"seq {entry.seq}: content changed (hash mismatch)")
        if item.signature_ok is None or not item.key_known:
            # not checked before the lock (a race with another instance), or its key was
            # not registered then: check with the keys as they are now
            self._check_signature(item, self._keys_of(terminal_id, {entry.key_id}))
        if not item.key_known:
            return _Refusal("unknown key", f"seq {entry.seq}: signed by unknown key {entry.key_id}")
        if not item.signature_ok:
            return _Refusal("bad signature", f"seq {entry.seq}: bad signature")
        if self._payload(item) is None:
            return _Refusal("bad payload", f"seq {entry.seq}: {item.payload_problem}")
        return note

    def _epoch_link(
        self, item: _Checked, head_seq: int, head_hash: str, head_epoch: int
    ) -> tuple[str, str | None] | _Refusal:
        """How an epoch start joins the chain held: (the hash it links to, a declared
        gap's note or None), or why it does not (as ``journal_format`` rules)."""
        entry = item.entry
        previous = _previous_head(self._payload(item))
        if previous is None:
            return _Refusal(
                "broken link",
                f"seq {entry.seq}: the epoch start does not name the previous epoch's head",
            )
        p_epoch, p_seq, p_hash = previous
        if entry.epoch != p_epoch + 1:
            return _Refusal(
                "broken link",
                f"seq {entry.seq}: epoch {entry.epoch} names epoch {p_epoch} as the one before it",
            )
        if head_seq and p_epoch < head_epoch:
            return _Refusal(
                "broken link",
                f"seq {entry.seq}: epoch {entry.epoch} follows epoch {p_epoch}, "
                f"but the fleet holds epoch {head_epoch}",
            )
        if entry.seq != p_seq + 1:
            return _Refusal(
                "broken link", f"seq {entry.seq}: epoch {entry.epoch} must begin at {p_seq + 1}"
            )
        if p_seq == head_seq:
            if p_hash != head_hash or (head_seq and p_epoch != head_epoch):
                return _Refusal(
                    "broken link",
                    f"seq {entry.seq}: epoch {entry.epoch} does not follow the entry held "
                    f"at seq {head_seq}",
                )
            return p_hash, None
        return p_hash, (
            f"epoch {entry.epoch} begins after epoch {p_epoch}'s seq {p_seq}; the fleet holds "
            f"up to seq {head_seq}: {_span(head_seq + 1, p_seq)} were lost with the terminal's "
            f"previous epoch"
        )

    def _held_hashes(self, terminal_id: str, seqs: list[int]) -> dict[int, str]:
        rows = (
            Entry.select(Entry.seq, Entry.hash)
            .where((Entry.terminal_id == terminal_id) & Entry.seq.between(min(seqs), max(seqs)))
            .tuples()
            .bind(self.db)
        )
        return dict(rows)

    @staticmethod
    def _quarantine_row(terminal_id: str, entry: fp.Entry, refusal: _Refusal, now) -> tuple:
        return (
            terminal_id,
            entry.epoch,
            entry.seq,
            refusal.reason,
            refusal.detail,
            fp.encode(entry).decode(),
            now,
        )

    # -- presence and events ----------------------------------------------------------------
    def state(self, terminal_id: str, state: fp.State) -> None:
        """Presence. A state older than the birth shown (a Will that arrives after a quick
        reconnect) is ignored; for one birth, offline is final."""
        self._retrying(f"state of {terminal_id}", lambda: self._state(terminal_id, state))

    def _state(self, terminal_id: str, state: fp.State) -> None:
        now = self._now()
        with write_transaction(self.db):
            term = self._terminal(terminal_id, lock=True)
            if term is None:
                self._alert(
                    terminal_id,
                    "unknown terminal",
                    f"{terminal_id} reports its state but is not registered",
                    now,
                )
                return
            if term.birth is not None and (
                state.birth < term.birth or (state.birth == term.birth and term.status == "offline")
            ):
                log.info(
                    "%s: %s of birth %d ignored (birth %d shown)",
                    terminal_id,
                    state.status,
                    state.birth,
                    term.birth,
                )
                self.stats["late state"] += 1
                return
            changes: dict = {"status": state.status, "birth": state.birth}
            if state.status == "online":
                changes.update(
                    software=state.software, config_version=state.config_version, last_seen=now
                )
                if state.secrets_key:  # what PINs are sealed to (its own connection says)
                    record_secrets_key(self.db, terminal_id, state.secrets_key, now)
            Terminal.update(**changes).where(Terminal.id == terminal_id).execute(self.db)

    def event(self, terminal_id: str, event: fp.Event) -> None:
        """A device health event, fraud signal or lockout: kept, and an alert raised
        (``device_ok`` closes that device's open alerts)."""
        self._retrying(f"event of {terminal_id}", lambda: self._event(terminal_id, event))

    def _event(self, terminal_id: str, event: fp.Event) -> None:
        now = self._now()
        with write_transaction(self.db):
            if self._terminal(terminal_id) is None:
                self._alert(
                    terminal_id,
                    "unknown terminal",
                    f"{terminal_id} sends events but is not registered",
                    now,
                )
                return
            DeviceEvent.insert(
                terminal_id=terminal_id,
                kind=event.kind,
                device=event.device,
                detail=event.detail,
                ts=event.ts,
                seq=event.seq,
                received_at=now,
            ).execute(self.db)
            Terminal.update(last_seen=now).where(Terminal.id == terminal_id).execute(self.db)
            if event.kind == "device_ok":
                Alert.update(resolved=True).where(
                    (Alert.terminal_id == terminal_id)
                    & (Alert.kind.in_(sorted(DEVICE_KINDS)))
                    & (Alert.device == event.device)
                    & (Alert.resolved == False)  # noqa: E712
                ).execute(self.db)
            elif event.kind in ALERT_EVENT_KINDS:
                detail = event.detail or event.kind.replace("_", " ")
                if event.seq:
                    detail += f" (journal seq {event.seq})"
                self._alert(terminal_id, event.kind, detail, now, device=event.device)
        self.stats["events"] += 1

    # -- configuration status -------------------------------------------------------------
    def config_status(self, terminal_id: str, status: fp.ConfigStatus) -> None:
        """What became of a configuration on the terminal: kept as its last status (the
        applied versions only from an ``applied``), counted for the rollout it names, and
        a refusal raised as an alert ``config refused`` (an ``applied`` closes it)."""
        self._retrying(
            f"config status of {terminal_id}", lambda: self._config_status(terminal_id, status)
        )

    def _config_status(self, terminal_id: str, status: fp.ConfigStatus) -> None:
        now = self._now()
        # text as the terminal sent it, but a NUL (PostgreSQL's text has none) shown as such
        status = msgspec.structs.replace(
            status,
            ts=_clean(status.ts),
            reason=_clean(status.reason),
            message=_clean(status.message),
            rollout=_clean(status.rollout),
        )
        with write_transaction(self.db):
            if self._terminal(terminal_id) is None:
                self._alert(
                    terminal_id,
                    "unknown terminal",
                    f"{terminal_id} reports a configuration status but is not registered",
                    now,
                )
                return
            row: dict = {
                "result": status.result,
                "reason": status.reason,
                "message": status.message,
                "rollout": status.rollout,
                "ts": status.ts,
                "updated_at": now,
            }
            if status.result == "applied":
                row["versions_json"] = json.dumps(status.versions, sort_keys=True)
            updated = (
                TerminalConfig.update(**row)
                .where(TerminalConfig.terminal_id == terminal_id)
                .execute(self.db)
            )
            if not updated:
                TerminalConfig.insert(terminal_id=terminal_id, **row).execute(self.db)
            self._rollout_answer(terminal_id, status)
            Terminal.update(last_seen=now).where(Terminal.id == terminal_id).execute(self.db)
            if status.result == "refused":
                detail = f"{status.reason or 'refused'}: {status.message}".rstrip(": ")
                if status.rollout:
                    detail += f" (rollout {status.rollout})"
                self._alert(terminal_id, "config refused", _short(detail, 500), now)
            elif status.result == "applied":
                Alert.update(resolved=True).where(
                    (Alert.terminal_id == terminal_id)
                    & (Alert.kind == "config refused")
                    & (Alert.resolved == False)  # noqa: E712
                ).execute(self.db)
        self.stats["config status"] += 1

    # -- job results ----------------------------------------------------------------------
    def job_result(self, terminal_id: str, result: fp.JobResult) -> JobDone | None:
        """A terminal's answer to a job: kept on the job's row for that terminal (a
        final answer is not replaced by a late ``accepted`` or ``running``); a step's
        progress and a certificate request on :class:`JobProgress`; a refused or failed
        job is an alert (``job refused`` / ``job failed``); an unknown terminal too. A
        final answer returns :class:`JobDone`: the server then clears the retained job."""
        self._retrying(
            f"job result of {terminal_id}", lambda: self._job_result(terminal_id, result)
        )
        if result.state in fp.FINAL_JOB_STATES:
            return JobDone(terminal_id, result.id)
        return None

    def _job_result(self, terminal_id: str, result: fp.JobResult) -> None:
        now = self._now()
        detail = _clean(result.detail)
        with write_transaction(self.db):
            if self._terminal(terminal_id) is None:
                self._alert(
                    terminal_id,
                    "unknown terminal",
                    f"{terminal_id} reports job {result.id} but is not registered",
                    now,
                )
                return
            query = JobTarget.update(
                state=result.state,
                detail=detail,
                data_json=json.dumps(
                    {_clean(k): _clean(v) for k, v in result.data.items()}, sort_keys=True
                ),
                ts=result.ts.isoformat(),
                updated_at=now,
            ).where((JobTarget.job == result.id) & (JobTarget.terminal_id == terminal_id))
            if result.state not in fp.FINAL_JOB_STATES:  # (a final answer stays)
                query = query.where(
                    JobTarget.state.is_null() | JobTarget.state.not_in(fp.FINAL_JOB_STATES)
                )
            if not query.execute(self.db):
                log.warning("job %s of %s: not a job sent to it, or final", result.id, terminal_id)
            elif result.progress is not None or result.csr:
                self._job_progress(terminal_id, result, now)
            Terminal.update(last_seen=now).where(Terminal.id == terminal_id).execute(self.db)
            if result.state in ("refused", "failed"):
                self._alert(
                    terminal_id,
                    f"job {result.state}",
                    _short(f"job {result.id}: {detail or result.state}", 500),
                    now,
                )
        self.stats["job result"] += 1

    def _job_progress(self, terminal_id: str, result: fp.JobResult, now: datetime) -> None:
        """The step's progress, and a certificate request (kept until the next one)."""
        changes = {JobProgress.progress: result.progress, JobProgress.updated_at: now}
        if result.csr:
            changes.update(
                {
                    JobProgress.csr: result.csr,
                    JobProgress.certificate_job: None,
                    JobProgress.serial: "",
                    JobProgress.refused: "",
                }
            )
        JobProgress.insert(
            job=result.id,
            terminal_id=terminal_id,
            progress=result.progress,
            csr=result.csr,
            updated_at=now,
        ).on_conflict(
            conflict_target=[JobProgress.job, JobProgress.terminal_id], update=changes
        ).execute(self.db)

    def _rollout_answer(self, terminal_id: str, status: fp.ConfigStatus) -> None:
        """The terminal's answer, for the rollout that sent what it answers: an
        ``applied`` counts only when it applied the rollout's version (or a later one)."""
        if not _ROLLOUT_ID.fullmatch(status.rollout):
            return
        rollout = Rollout.select().where(Rollout.id == int(status.rollout)).bind(self.db).first()
        if rollout is None:
            return
        if status.result == "applied" and status.versions.get(rollout.scope, 0) < rollout.version:
            return
        RolloutTarget.update(result=status.result, reason=status.reason).where(
            (RolloutTarget.rollout == rollout.id)
            & (RolloutTarget.terminal_id == terminal_id)
            & ((RolloutTarget.result.is_null()) | (RolloutTarget.result == "held"))
        ).execute(self.db)

    # -- shared ---------------------------------------------------------------------------
    def _terminal(self, terminal_id: str, *, lock: bool = False) -> Terminal | None:
        query = Terminal.select().where(Terminal.id == terminal_id)
        if lock and is_postgres(self.db):
            query = query.for_update()
        return query.bind(self.db).first()

    def _alert(
        self,
        terminal_id: str,
        kind: str,
        detail: str,
        now: datetime,
        *,
        device: str = "",
        times: int = 1,
    ) -> None:
        """Raise an alert, or count it again on the open one of the same kind."""
        log.warning("alert %s for %s: %s", kind, terminal_id, detail)
        self.stats[f"alert {kind}"] += times
        open_one = (
            Alert.select(Alert.id)
            .where(
                (Alert.terminal_id == terminal_id)
                & (Alert.kind == kind)
                & (Alert.device == device)
                & (Alert.resolved == False)  # noqa: E712
            )
            .order_by(Alert.id.desc())
            .bind(self.db)
            .first()
        )
        if open_one is not None:
            Alert.update(count=Alert.count + times, at=now, detail=detail).where(
                Alert.id == open_one.id
            ).execute(self.db)
            return
        Alert.insert(
            terminal_id=terminal_id,
            kind=kind,
            device=device,
            detail=detail,
            at=now,
            first_at=now,
            count=times,
        ).execute(self.db)


@dataclass(frozen=True)
class JobDone:
    """A job's final answer came: its retained ``down/job/{id}`` is to be cleared."""

    terminal_id: str
    job_id: str


def open_alerts(db: peewee.Database, terminal_id: str | None = None) -> list[Alert]:
    """The alerts not resolved, newest first (of one terminal, or all)."""
    query = Alert.select().where(Alert.resolved == False)  # noqa: E712
    if terminal_id is not None:
        query = query.where(Alert.terminal_id == terminal_id)
    return list(query.order_by(Alert.at.desc(), Alert.id.desc()).bind(db))


def resolve_alert(db: peewee.Database, alert_id: int) -> bool:
    return bool(Alert.update(resolved=True).where(Alert.id == alert_id).execute(db))
