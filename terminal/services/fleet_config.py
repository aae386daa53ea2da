"""Signed shop configuration pushed by the fleet (``pos/v1/{tid}/down/cfg``, retained): the
check both processes make, and the app's side that applies it.

The agent (:mod:`terminal.fleet.agent`) receives a :class:`~terminal.core.fleet_protocol.
ConfigBundle`, checks it with :func:`check_bundle` (the signing-key list against the root
key pinned in ``[fleet] config_root_key``, then every document: key, signature, scope,
expiry, version), keeps the key list it accepted, and puts a bundle that passed in
``fleet_config_inbox``; a refusal becomes a status row (reason code and message). The
app (:class:`FleetConfig`, polled on the window's clock; a look at ``PRAGMA data_version``
when nothing waits) checks the bundle again with the same code, merges its documents
(fleet < group < terminal), applies the result through ``PosService.apply_shop_config``
(checked; held while a sale is open), keeps the applied versions, and writes the status
(``held``, ``applied`` or ``refused``), which the agent publishes on ``up/cfg-status``.
The app journals every outcome (``config_change``): an applied configuration with its
scopes and versions, each refusal with its reason, the agent's too (only the app writes
the journal). A refused configuration changes nothing: the last good one stays.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from peewee import DatabaseError

from terminal.config import FleetSettings
from terminal.core import fleet_protocol as fp
from terminal.core.central_staff import secret_names
from terminal.core.config_secrets import open_secrets, verify_secrets
from terminal.core.errors import ConfigError
from terminal.core.signed_config import (
    SCOPE_KINDS,
    ConfigRefused,
    SignedConfig,
    Trust,
    effective_document,
    verify_config,
)
from terminal.store import fleet_config
from terminal.store.cashiers import PinHasher
from terminal.store.central_staff import hash_secrets, staff_change
from terminal.store.fleet_config import Applied, TrustState

log = logging.getLogger(__name__)

UNTRUSTED = "untrusted: no root key is pinned on this terminal ([fleet] config_root_key)"


@dataclass(frozen=True)
class CheckedBundle:
    rollout: str
    documents: list[SignedConfig]  # fleet, group, terminal (those the bundle carries)
    changed: bool  # a document newer than the one applied for its scope
    key_list_changed: bool
    secrets: dict[str, str] = field(default_factory=dict)  # name -> sealed to this terminal

    @property
    def effective(self) -> dict[str, Any]:
        """The terminal's effective document (fleet < group < terminal)."""
        return effective_document(*(d.document for d in self.documents))

    @property
    def versions(self) -> dict[str, int]:
        return {d.scope.label: d.version for d in self.documents}

    @property
    def source(self) -> str:
        return "fleet " + ", ".join(f"{d.scope.label} v{d.version}" for d in self.documents)


def load_trust(fleet: FleetSettings, held: TrustState) -> Trust:
    """The root key pinned in ``[fleet] config_root_key`` and the key list accepted
    before; ConfigRefused (``unknown_key``, untrusted) when no root key can be read."""
    path = fleet.config_root_key
    if path is None:
        raise ConfigRefused("unknown_key", UNTRUSTED)
    try:
        root = path.read_bytes()
        trust = Trust(root, revoked=held.revoked)
    except (OSError, ValueError) as exc:
        raise ConfigRefused(
            "unknown_key", f"untrusted: the root key {path} cannot be used: {exc}"
        ) from None
    if held.key_list is not None:
        try:
            trust = Trust(root, key_list=held.key_list, revoked=held.revoked)
        except ConfigRefused as exc:  # (another root pinned since): judged by none
            log.warning("the signing key list held is not the root's: %s", exc.message)
    return trust


def decode_bundle(data: bytes) -> fp.ConfigBundle:
    if len(data) > fp.MAX_MESSAGE_BYTES:
        raise ConfigRefused(
            "oversized", f"{len(data)} bytes, over the limit of {fp.MAX_MESSAGE_BYTES}"
        )
    try:
        return fp.decode("down/cfg", data)
    except fp.BadMessage as exc:
        raise ConfigRefused("malformed", str(exc)[:300]) from None


def rollout_of(data: bytes) -> str:
    """The rollout a bundle names, or '' (for the status of one refused)."""
    try:
        return fp.decode("down/cfg", data).rollout
    except fp.BadMessage:
        return ""


def check_bundle(
    data: bytes,
    trust: Trust,
    *,
    terminal_id: str,
    group: str,
    applied: dict[str, Applied],
    now: datetime,
) -> CheckedBundle:
    """The bundle checked for this terminal, or ConfigRefused. A newer key list is
    accepted into ``trust`` first. A document at the version already applied, with the
    same bytes, is unchanged (the retained bundle comes again); any other at or below it
    is a replay."""
    bundle = decode_bundle(data)
    key_list = bundle.key_list.encode()
    changed_list = key_list != trust.key_list_envelope
    if changed_list:
        trust.accept_key_list(key_list, now)
    documents: dict[str, SignedConfig] = {}
    changed = False
    for envelope in bundle.documents:
        document = verify_config(
            envelope.encode(),
            trust=trust,
            terminal_id=terminal_id,
            group=group or None,
            applied_versions={},
            now=now,
        )
        label = document.scope.label
        if document.scope.kind in documents:
            raise ConfigRefused("malformed", f"two documents for the {document.scope.kind}")
        held = applied.get(label)
        if held is not None and (
            document.version < held.version
            or (document.version == held.version and document.sha256 != held.sha256)
        ):
            raise ConfigRefused(
                "replay",
                f"{label} version {document.version}, not newer than the applied {held.version}",
            )
        changed = changed or held is None or document.version > held.version
        documents[document.scope.kind] = document
    ordered = [documents[kind] for kind in SCOPE_KINDS if kind in documents]
    secrets = {}
    if bundle.secrets:
        secrets = verify_secrets(
            bundle.secrets.encode(),
            trust=trust,
            terminal_id=terminal_id,
            scopes=[d.scope for d in ordered],
            documents=[d.sha256 for d in ordered],
            now=now,
        )
    return CheckedBundle(bundle.rollout, ordered, changed, changed_list, secrets)


def hashed_secrets(
    checked: CheckedBundle, terminal_id: str, key: X25519PrivateKey, hasher: PinHasher
) -> dict[str, str]:
    """The PINs and codes the bundle's effective document uses, opened with the
    terminal's key and hashed with its pepper at once (name -> PHC): what the agent keeps
    beside the bundle. ConfigRefused (``invalid``) for one that does not open or breaks
    the PIN rules: the bundle is refused whole."""
    if not checked.secrets:
        return {}
    try:
        wanted = secret_names(checked.effective)
        return hash_secrets(open_secrets(key, terminal_id, checked.secrets, wanted), hasher)
    except ValueError as exc:
        raise ConfigRefused("invalid", str(exc)) from None


def status(
    result: str,
    now: datetime,
    *,
    versions: dict[str, int] | None = None,
    reason: str = "",
    message: str = "",
    rollout: str = "",
) -> bytes:
    return fp.encode(
        fp.ConfigStatus(
            result,
            now.isoformat(timespec="milliseconds"),
            dict(versions or {}),
            reason[:200],
            message[:1000],
            rollout[:200],
        )
    )


def bundle_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Held:
    inbox_id: int
    checked: CheckedBundle


class FleetConfig:
    """The app's side: ``poll()`` applies what the agent verified (on the thread that
    runs the sales: the window's)."""

    def __init__(self, pos) -> None:
        self.pos = pos
        self.held: Held | None = None  # applied when the open sale ends
        self.data_version: int | None = None
        pos.events.subscribe(self._config_applied, {"config_applied"})

    @property
    def db(self):
        return self.pos.db

    def poll(self) -> None:
        """Cheap when nothing changed: one PRAGMA. Never raises for a database error."""
        if not self.pos.settings.fleet.enabled:
            return
        try:
            version = self.db.execute_sql("PRAGMA data_version").fetchall()[0][0]
            if version == self.data_version and self.held is None:
                return
            self.data_version = version
            self._journal_refusals()
            if self.held is not None and self.pos.pending_config is None:
                held, self.held = self.held, None  # it failed as the sale ended (or a
                self._refuse(  # local configuration took its place)
                    held.inbox_id,
                    ConfigRefused("invalid", "not applied as the sale ended (see the log)"),
                    held.checked.rollout,
                )
            waiting = fleet_config.waiting_bundle(self.db)
            if waiting is not None and (self.held is None or waiting.id != self.held.inbox_id):
                self._take(waiting)
        except DatabaseError as exc:  # the fleet's configuration never stops the terminal
            log.warning("fleet configuration not read: %s", exc)

    def _take(self, waiting: fleet_config.Waiting) -> None:
        now = self.pos.clock()
        held = fleet_config.state(self.db)
        rollout = rollout_of(waiting.bundle)
        try:
            checked = check_bundle(
                waiting.bundle,
                load_trust(self.pos.settings.fleet, held),
                terminal_id=self.pos.settings.terminal_id,
                group=self.pos.settings.fleet.group,
                applied=held.applied,
                now=now,
            )
            if not checked.changed and not waiting.hashes:  # (new PINs are a change)
                with self.db.atomic():
                    fleet_config.take_bundles(self.db, waiting.id)
                    self._status("applied", checked, now)
                return
            document = checked.effective
            staff = staff_change(document, waiting.hashes)
            outcome = self.pos.apply_shop_config(
                document, checked.source, self._details(checked), staff=staff
            )
        except ConfigRefused as exc:
            self._refuse(waiting.id, exc, rollout)
            return
        except (ConfigError, ValueError) as exc:
            self._refuse(waiting.id, ConfigRefused("invalid", str(exc)), rollout)
            return
        if outcome.applied:
            self._done(waiting.id, checked)
        else:
            self.held = Held(waiting.id, checked)
            self._status("held", checked, now)
            log.info("fleet configuration (%s) held until the sale ends", checked.source)

    @staticmethod
    def _details(checked: CheckedBundle) -> dict[str, Any]:
        details: dict[str, Any] = {"scopes": checked.versions}
        if checked.rollout:
            details["rollout"] = checked.rollout
        return details

    def _config_applied(self, event) -> None:
        held = self.held
        if held is not None and event.data.get("source") == held.checked.source:
            self.held = None
            self._done(held.inbox_id, held.checked)

    def _status(self, result: str, checked: CheckedBundle, now: datetime) -> None:
        fleet_config.add_status(
            self.db,
            status(result, now, versions=checked.versions, rollout=checked.rollout),
            journaled=True,
        )

    def _done(self, inbox_id: int, checked: CheckedBundle) -> None:
        now = self.pos.clock()
        with self.db.atomic():
            fleet_config.set_applied(
                self.db,
                {d.scope.label: Applied(d.version, d.sha256) for d in checked.documents},
                now,
            )
            fleet_config.take_bundles(self.db, inbox_id)
            self._status("applied", checked, now)
        log.info("fleet configuration applied: %s", checked.source)

    def _refuse(self, inbox_id: int, refused: ConfigRefused, rollout: str) -> None:
        now = self.pos.clock()
        with self.db.atomic("IMMEDIATE"):
            self._journal_refusal(refused.reason, refused.message, rollout, now)
            fleet_config.take_bundles(self.db, inbox_id)
            fleet_config.add_status(
                self.db,
                status(
                    "refused", now, reason=refused.reason, message=refused.message, rollout=rollout
                ),
                journaled=True,
            )
        log.warning("fleet configuration refused (%s): %s", refused.reason, refused.message)

    def _journal_refusal(self, reason: str, message: str, rollout: str, now: datetime) -> None:
        payload = {
            "change": "fleet configuration refused",
            "result": "refused",
            "reason": reason,
            "message": message[:1000],
        }
        if rollout:
            payload["rollout"] = rollout
        self.pos.journal.append("config_change", payload, now)

    def _journal_refusals(self) -> None:
        """The agent's refusals, journaled here (the agent never writes the journal)."""
        for row in fleet_config.unjournaled_statuses(self.db):
            found = fleet_config.status_json(row.status)
            with self.db.atomic("IMMEDIATE"):
                if found.get("result") == "refused":
                    self._journal_refusal(
                        found.get("reason", ""),
                        found.get("message", ""),
                        found.get("rollout", ""),
                        self.pos.clock(),
                    )
                fleet_config.set_journaled(self.db, row.id)
