"""Pushing signed configuration to the terminals, in waves (``pos-fleet config push``).

A push signs the document for its scope (:mod:`fleet.signing`), records it
(:class:`~fleet.models.ConfigDocument`) and makes a :class:`~fleet.models.Rollout`: the
terminals of the scope in a stable order (by id), split into waves by cumulative
percentages (``1%,10%,100%``: the first 1% of them, at least one terminal, then up to
10%, then the rest). Each wave:

1. every terminal of the wave gets its **bundle** retained on ``pos/v1/{tid}/down/cfg``:
   the signing key list and, for each scope it belongs to (fleet, its group, itself), the
   newest document *released to it*;
2. the push waits until each terminal of the wave answered ``applied`` (this version or a
   later one) or ``refused`` for this rollout (the ingest records the answers from
   ``up/cfg-status``), or until the wave's timeout;
3. the **health gate**: more than ``gate_refused`` refusals, more than ``gate_offline``
   terminals without an answer, or more than ``gate_errors`` terminals that raised an
   alert (a device error, a lockout, a fraud signal...) after their bundle was sent,
   watched for ``soak`` seconds more once all answered, stops the rollout (state
   ``stopped``):
   the later waves are never sent and their terminals keep the bundle they hold.

A document is released to a terminal once its rollout sent it to that terminal, or when
its rollout is done (a terminal registered later gets it with the next push it is part
of). So a later push of another scope never carries a stopped rollout's document to the
terminals its waves did not reach.

The rollout's state lives in the database, so another shell can pause or abort it
(:func:`pause`, :func:`abort`): the running push sees it while it waits and stops before
the next wave; :func:`run` on a paused rollout (``rollout resume``) goes on with the wave
it stopped at, sending only to the terminals not yet sent to.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import peewee

from fleet import signing as fleet_signing
from fleet.db import write_transaction
from fleet.ingest import ALERT_EVENT_KINDS, FINAL_RESULTS
from fleet.models import (
    Alert,
    ConfigDocument,
    EnrollmentToken,
    Rollout,
    RolloutTarget,
    Terminal,
)
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc

DEFAULT_WAVES = "100%"
# the alerts that count against a wave's health gate (--gate-errors)
GATE_ALERTS = ALERT_EVENT_KINDS | {"central"}
# (terminal, the envelopes of its bundle) -> its sealed secrets' envelope, or ''
Sealer = Callable[[Terminal, list[str]], str]
ACTIVE = ("running", "paused")


class RolloutError(ValueError):
    """A rollout that cannot be made or changed as asked (nothing changed)."""


class TooLarge(RolloutError):
    """A terminal's bundle over the protocol's message size."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_waves(text: str) -> list[int]:
    """``1%,10%,100%`` as [1, 10, 100]: cumulative, rising, the last 100."""
    try:
        waves = [int(part.strip().rstrip("%")) for part in text.split(",")]
    except ValueError:
        raise RolloutError(f"waves {text!r}: percentages, e.g. 1%,10%,100%") from None
    if not waves or any(not 0 < w <= 100 for w in waves):
        raise RolloutError(f"waves {text!r}: each between 1% and 100%")
    if any(b <= a for a, b in itertools.pairwise(waves)):
        raise RolloutError(f"waves {text!r}: each wave a larger share than the one before")
    if waves[-1] != 100:
        raise RolloutError(f"waves {text!r}: the last wave is 100% (every terminal)")
    return waves


def split_waves(terminals: list[str], waves: list[int]) -> list[list[str]]:
    """The terminals of each wave (a wave has at least one terminal while any are left)."""
    out: list[list[str]] = []
    done = 0
    for percent in waves:
        upto = min(len(terminals), max(done + 1, math.ceil(len(terminals) * percent / 100)))
        out.append(terminals[done:upto])
        done = upto
    return out


def scope_clause(scope: sc.Scope) -> peewee.Expression | bool:
    """A WHERE clause on :class:`Terminal` keeping the terminals a scope reaches."""
    if scope.kind == "group":
        return Terminal.group == scope.name
    if scope.kind == "terminal":
        return Terminal.id == scope.name
    return True


def awaited(db: peewee.Database, scope: sc.Scope, now: datetime | None = None) -> bool:
    """Whether terminals are expected in a scope none is in yet: the fleet's (its first
    terminal enrolls with what is pushed before), or one a valid enrollment token names
    (a new store's group, a terminal being set up)."""
    if scope.kind == "fleet":
        return True
    now = now or utcnow()
    named = (
        EnrollmentToken.group == scope.name
        if scope.kind == "group"
        else EnrollmentToken.terminal_id == scope.name
    )
    return (
        EnrollmentToken.select()
        .where(named & EnrollmentToken.used_at.is_null() & (EnrollmentToken.expires_at > now))
        .bind(db)
        .exists()
    )


def scope_terminals(db: peewee.Database, scope: sc.Scope) -> list[str]:
    """The registered terminals a scope reaches, by id."""
    query = Terminal.select(Terminal.id).where(scope_clause(scope)).order_by(Terminal.id)
    return [tid for (tid,) in query.tuples().bind(db)]


def last_version(db: peewee.Database, scope: sc.Scope) -> int:
    value = (
        ConfigDocument.select(peewee.fn.MAX(ConfigDocument.version))
        .where(ConfigDocument.scope == scope.label)
        .bind(db)
        .scalar()
    )
    return value or 0


def documents(db: peewee.Database, scope: sc.Scope) -> list[ConfigDocument]:
    """The scope's documents, newest first."""
    return list(
        ConfigDocument.select()
        .where(ConfigDocument.scope == scope.label)
        .order_by(ConfigDocument.version.desc())
        .bind(db)
    )


def previous_document(db: peewee.Database, scope: sc.Scope) -> ConfigDocument:
    """The document before the newest of the scope (what a rollback sends again)."""
    held = documents(db, scope)
    if len(held) < 2:
        raise RolloutError(
            f"{scope.label}: {'one document' if held else 'no document'} pushed, "
            "nothing to roll back to"
        )
    return held[1]


def document_of(envelope: bytes | str) -> dict:
    """The document inside an envelope the fleet signed itself (not verified again)."""
    data = envelope.encode() if isinstance(envelope, str) else envelope
    payload = base64.b64decode(json.loads(data)["payload"])
    return msgspec.json.decode(payload, type=sc.ConfigPayload).document


def sign_and_plan(
    db: peewee.Database,
    signing_dir: Path,
    document: dict,
    scope: sc.Scope,
    *,
    waves: list[int],
    gate_refused: int = 0,
    gate_offline: int = 0,
    gate_errors: int = 0,
    soak: float = 0,
    wave_timeout: float = 300,
    expires: timedelta = timedelta(days=fleet_signing.DEFAULT_CONFIG_DAYS),
    key: str | None = None,
) -> Planned:
    """``document`` signed for ``scope`` as the next version (after both the fleet
    database's and the signing directory's last), recorded, and its rollout planned.
    Refused while another rollout of the scope is running or paused (two would
    interleave). SigningError or RolloutError; nothing recorded then."""
    if not scope_terminals(db, scope) and not awaited(db, scope):
        raise RolloutError(
            f"{scope.label}: no registered terminal in that scope (nor a token for one)"
        )
    unfinished = (
        Rollout.select()
        .where((Rollout.scope == scope.label) & Rollout.state.in_(ACTIVE))
        .order_by(Rollout.id)
        .bind(db)
        .first()
    )
    if unfinished is not None:
        raise RolloutError(
            f"rollout {unfinished.id} of {scope.label} is {unfinished.state}: resume or abort "
            f"it first (pos-fleet rollout abort {unfinished.id})"
        )
    signed_before = fleet_signing._versions(signing_dir).get(scope.label, 0)
    in_db = last_version(db, scope)
    signed = fleet_signing.sign_config(
        signing_dir,
        document,
        scope,
        datetime.now(UTC),
        version=in_db + 1 if in_db >= signed_before else None,
        expires=expires,
        key=key,
    )
    return create(
        db,
        scope,
        version=signed.version,
        envelope=signed.envelope,
        sha256=signed.sha256,
        key_id=signed.key_id,
        waves=waves,
        gate_refused=gate_refused,
        gate_offline=gate_offline,
        gate_errors=gate_errors,
        soak=soak,
        wave_timeout=wave_timeout,
    )


def key_list(signing_dir: Path) -> bytes:
    """The key list the root signed, as the terminals are sent it."""
    try:
        return (signing_dir / fleet_signing.KEY_LIST).read_bytes()
    except FileNotFoundError:
        raise fleet_signing.SigningError(
            f"{signing_dir / fleet_signing.KEY_LIST}: missing; run `pos-fleet keys init` first"
        ) from None


@dataclass(frozen=True)
class Planned:
    rollout: Rollout
    waves: list[list[str]]


def create(
    db: peewee.Database,
    scope: sc.Scope,
    *,
    version: int,
    envelope: bytes,
    sha256: str,
    key_id: str,
    waves: list[int],
    gate_refused: int = 0,
    gate_offline: int = 0,
    gate_errors: int = 0,
    soak: float = 0,
    wave_timeout: float = 300,
    now: datetime | None = None,
) -> Planned:
    """Record the signed document and its rollout (state running, nothing sent yet).
    A scope no terminal is in yet (:func:`awaited`): the rollout is done at once, and
    the document is released to the terminals as they enroll (their first bundle)."""
    now = now or utcnow()
    terminals = scope_terminals(db, scope)
    if not terminals and not awaited(db, scope):
        raise RolloutError(
            f"{scope.label}: no registered terminal in that scope (nor a token for one)"
        )
    split = split_waves(terminals, waves) if terminals else []
    with write_transaction(db):
        rollout_id = Rollout.insert(
            scope=scope.label,
            version=version,
            **(
                {}
                if terminals
                else {
                    "state": "done",
                    "current_wave": len(waves),
                    "message": "no terminal yet: released to the terminals as they enroll",
                }
            ),
            waves=",".join(str(w) for w in waves),
            gate_refused=gate_refused,
            gate_offline=gate_offline,
            gate_errors=gate_errors,
            soak=soak,
            wave_timeout=wave_timeout,
            created_at=now,
            updated_at=now,
        ).execute(db)
        ConfigDocument.insert(
            scope=scope.label,
            version=version,
            envelope=envelope.decode(),
            sha256=sha256,
            key_id=key_id,
            created_at=now,
            rollout=rollout_id,
        ).execute(db)
        rows = [
            {"rollout": rollout_id, "terminal_id": tid, "wave": number}
            for number, wave in enumerate(split)
            for tid in wave
        ]
        RolloutTarget.insert_many(rows).execute(db)
    return Planned(get(db, rollout_id), split)


def get(db: peewee.Database, rollout_id: int | None = None) -> Rollout:
    """A rollout by id, or the newest."""
    query = Rollout.select()
    if rollout_id is None:
        found = query.order_by(Rollout.id.desc()).bind(db).first()
        if found is None:
            raise RolloutError("no rollout yet")
        return found
    found = query.where(Rollout.id == rollout_id).bind(db).first()
    if found is None:
        raise RolloutError(f"no rollout {rollout_id}")
    return found


# -- bundles --------------------------------------------------------------------------------------
def _released(db: peewee.Database, document: ConfigDocument, terminal_id: str) -> bool:
    if document.rollout is None:
        return False
    state = Rollout.select(Rollout.state).where(Rollout.id == document.rollout).bind(db).scalar()
    if state == "done":
        return True
    sent = (
        RolloutTarget.select(RolloutTarget.sent_at)
        .where(
            (RolloutTarget.rollout == document.rollout) & (RolloutTarget.terminal_id == terminal_id)
        )
        .bind(db)
        .scalar()
    )
    return sent is not None


def bundle_for(
    db: peewee.Database,
    terminal: Terminal,
    key_list: bytes,
    *,
    sending: ConfigDocument | None = None,
    rollout: str = "",
    seal: Sealer | None = None,
) -> fp.ConfigBundle:
    """The terminal's bundle: the key list and, per scope it belongs to (fleet, its group,
    itself), the newest document released to it (``sending``: the one being sent now);
    ``seal``: the PINs and passkeys those documents use, sealed to the terminal."""
    envelopes = []
    for scope in (
        sc.Scope("fleet", ""),
        sc.Scope("group", terminal.group),
        sc.Scope("terminal", terminal.id),
    ):
        if sending is not None and sending.scope == scope.label:
            envelopes.append(sending.envelope)
            continue
        for document in documents(db, scope):
            if _released(db, document, terminal.id):
                envelopes.append(document.envelope)
                break
    secrets = seal(terminal, envelopes) if seal is not None else ""
    return fp.ConfigBundle(
        key_list=key_list.decode(), documents=envelopes, rollout=rollout, secrets=secrets
    )


# -- running ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaveFigures:
    wave: int  # 0-based
    waves: int
    terminals: int
    sent: int
    applied: int
    refused: int
    held: int
    silent: list[str]  # no final answer (yet)
    refusals: list[tuple[str, str]]  # (terminal, reason)
    errors: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (terminal, alert)

    @property
    def answered(self) -> int:
        return self.applied + self.refused


def wave_figures(db: peewee.Database, rollout: Rollout, wave: int) -> WaveFigures:
    targets = list(
        RolloutTarget.select()
        .where((RolloutTarget.rollout == rollout.id) & (RolloutTarget.wave == wave))
        .order_by(RolloutTarget.terminal_id)
        .bind(db)
    )
    return WaveFigures(
        wave=wave,
        waves=len(rollout.waves.split(",")),
        terminals=len(targets),
        sent=sum(t.sent_at is not None for t in targets),
        applied=sum(t.result == "applied" for t in targets),
        refused=sum(t.result == "refused" for t in targets),
        held=sum(t.result == "held" for t in targets),
        silent=[t.terminal_id for t in targets if t.result not in FINAL_RESULTS],
        refusals=[(t.terminal_id, t.reason) for t in targets if t.result == "refused"],
        errors=_alerts_since_sent(db, targets),
    )


def _alerts_since_sent(db: peewee.Database, targets: list[RolloutTarget]) -> list[tuple[str, str]]:
    """Per terminal of the wave, the first alert of its health (a device, a lockout, a
    fraud signal, report rows not built) raised or raised again since its bundle was
    sent and still open: (terminal, alert kind). The journal's own transport (a gap the
    terminal fills by sending again) is not the configuration's doing."""
    sent = {t.terminal_id: t.sent_at for t in targets if t.sent_at is not None}
    if not sent:
        return []
    rows = (
        Alert.select(Alert.terminal_id, Alert.kind, Alert.at)
        .where(
            Alert.terminal_id.in_(sorted(sent))
            & (Alert.at >= min(sent.values()))
            & Alert.kind.in_(sorted(GATE_ALERTS))
            & (Alert.resolved == False)  # noqa: E712
        )
        .order_by(Alert.at)
        .tuples()
        .bind(db)
    )
    found: dict[str, str] = {}
    for terminal_id, kind, at in rows:
        if at >= sent[terminal_id]:
            found.setdefault(terminal_id, kind)
    return sorted(found.items())


def _set_state(
    db: peewee.Database, rollout_id: int, state: str, message: str, *, when: tuple[str, ...]
) -> bool:
    return bool(
        Rollout.update(state=state, message=message, updated_at=utcnow())
        .where((Rollout.id == rollout_id) & (Rollout.state.in_(when)))
        .execute(db)
    )


def pause(db: peewee.Database, rollout_id: int | None = None) -> Rollout:
    rollout = get(db, rollout_id)
    if not _set_state(db, rollout.id, "paused", "paused by the admin", when=("running",)):
        raise RolloutError(f"rollout {rollout.id} is {rollout.state}, not running")
    return get(db, rollout.id)


def abort(db: peewee.Database, rollout_id: int | None = None) -> Rollout:
    rollout = get(db, rollout_id)
    if not _set_state(db, rollout.id, "aborted", "aborted by the admin", when=ACTIVE):
        raise RolloutError(f"rollout {rollout.id} is {rollout.state}: nothing to abort")
    return get(db, rollout.id)


def resume(db: peewee.Database, rollout_id: int | None = None) -> Rollout:
    """A paused rollout running again (then :func:`run` it)."""
    rollout = get(db, rollout_id)
    if not _set_state(db, rollout.id, "running", "", when=("paused",)):
        raise RolloutError(f"rollout {rollout.id} is {rollout.state}, not paused")
    return get(db, rollout.id)


Report = Callable[[str, WaveFigures], None]  # ("sent" | "progress" | "done", figures)


def run(
    db: peewee.Database,
    rollout_id: int,
    publish: Callable[[str, bytes], None],
    key_list: bytes,
    *,
    report: Report = lambda _kind, _figures: None,
    poll: float = 0.1,
    seal: Sealer | None = None,
) -> Rollout:
    """Send the rollout's waves from its current one on, each waited on and gated, until
    it is done, stopped by a gate, or paused or aborted (by another shell). ``publish``:
    (topic, payload), retained QoS 1. Returns the rollout as it ends."""
    while True:
        rollout = get(db, rollout_id)
        waves = rollout.waves.split(",")
        if rollout.state != "running":
            return rollout
        if rollout.current_wave >= len(waves):
            _set_state(db, rollout.id, "done", "", when=("running",))
            return get(db, rollout.id)
        wave = rollout.current_wave
        try:
            _send_wave(db, rollout, wave, publish, key_list, seal)
        except TooLarge as exc:
            _set_state(db, rollout.id, "stopped", str(exc), when=("running",))
            continue
        report("sent", wave_figures(db, rollout, wave))
        figures = _wait(db, rollout, wave, report, poll)
        report("done", figures)
        if get(db, rollout.id).state != "running":
            continue  # paused or aborted meanwhile: the next wave is not sent
        failed = _gate(rollout, figures)
        if failed:
            _set_state(db, rollout.id, "stopped", failed, when=("running",))
            continue
        Rollout.update(current_wave=wave + 1, updated_at=utcnow()).where(
            (Rollout.id == rollout.id) & (Rollout.state == "running")
        ).execute(db)


def _send_wave(
    db, rollout: Rollout, wave: int, publish, key_list: bytes, seal: Sealer | None
) -> None:
    document = (
        ConfigDocument.select()
        .where((ConfigDocument.scope == rollout.scope) & (ConfigDocument.rollout == rollout.id))
        .bind(db)
        .get()
    )
    pending = list(
        RolloutTarget.select(RolloutTarget.terminal_id)
        .where(
            (RolloutTarget.rollout == rollout.id)
            & (RolloutTarget.wave == wave)
            & RolloutTarget.sent_at.is_null()
        )
        .order_by(RolloutTarget.terminal_id)
        .tuples()
        .bind(db)
    )
    for (terminal_id,) in pending:
        terminal = Terminal.select().where(Terminal.id == terminal_id).bind(db).get()
        bundle = bundle_for(
            db, terminal, key_list, sending=document, rollout=str(rollout.id), seal=seal
        )
        payload = fp.encode(bundle)
        if len(payload) > fp.MAX_MESSAGE_BYTES:  # the terminal would refuse the message
            raise TooLarge(
                f"the bundle for {terminal_id} is {len(payload)} bytes, over the limit of "
                f"{fp.MAX_MESSAGE_BYTES}: nothing more sent"
            )
        sent_at = utcnow()  # (what the terminal does from now on counts for the gate)
        publish(fp.topic(terminal_id, "down/cfg"), payload)
        RolloutTarget.update(sent_at=sent_at).where(
            (RolloutTarget.rollout == rollout.id) & (RolloutTarget.terminal_id == terminal_id)
        ).execute(db)


def _wait(db, rollout: Rollout, wave: int, report: Report, poll: float) -> WaveFigures:
    deadline = time.monotonic() + rollout.wave_timeout
    seen = -1
    while True:
        figures = wave_figures(db, rollout, wave)
        if figures.answered != seen:
            seen = figures.answered
            report("progress", figures)
        if not figures.silent or time.monotonic() >= deadline:
            break
        if get(db, rollout.id).state != "running":
            return figures
        time.sleep(poll)
    soak_until = time.monotonic() + rollout.soak  # watched a while more, for alerts
    while time.monotonic() < soak_until:
        if get(db, rollout.id).state != "running":
            return figures
        time.sleep(poll)
    return wave_figures(db, rollout, wave)


def _gate(rollout: Rollout, figures: WaveFigures) -> str:
    """Why the wave fails its health gate ('' when it passes)."""
    where = f"wave {figures.wave + 1} of {figures.waves}"
    if figures.refused > rollout.gate_refused:
        who = ", ".join(f"{tid} ({reason or 'refused'})" for tid, reason in figures.refusals)
        return (
            f"{where}: {figures.refused} refused, more than {rollout.gate_refused} allowed: {who}"
        )
    if len(figures.silent) > rollout.gate_offline:
        return (
            f"{where}: {len(figures.silent)} without an answer after {rollout.wave_timeout:g} s "
            f"(offline?), more than {rollout.gate_offline} allowed: {', '.join(figures.silent)}"
        )
    if len(figures.errors) > rollout.gate_errors:
        who = ", ".join(f"{tid} ({kind})" for tid, kind in figures.errors)
        return (
            f"{where}: {len(figures.errors)} with an alert since the push, more than "
            f"{rollout.gate_errors} allowed: {who}"
        )
    return ""


def untouched(db: peewee.Database, rollout_id: int) -> list[str]:
    """The rollout's terminals never sent its document."""
    return [
        tid
        for (tid,) in RolloutTarget.select(RolloutTarget.terminal_id)
        .where((RolloutTarget.rollout == rollout_id) & RolloutTarget.sent_at.is_null())
        .order_by(RolloutTarget.terminal_id)
        .tuples()
        .bind(db)
    ]
