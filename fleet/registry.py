"""The terminals the fleet accepts, and their journal keys.

``pos-fleet terminal add`` registers a terminal (its store, group and time zone) with the
journal public key its entries are signed with; registering again with another key adds
that key (a replacement terminal, a rotated key), and the older keys stay valid for the
entries they signed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import peewee
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet.db import write_transaction
from fleet.models import Terminal, TerminalKey, TerminalSecretsKey
from terminal.core import fleet_protocol as fp
from terminal.core.clock import Clock, system_clock
from terminal.store.journal_format import key_id, load_public_key


def _utc(clock: Clock) -> datetime:
    return clock().astimezone(UTC).replace(tzinfo=None)


def check_terminal_id(terminal_id: str) -> str:
    try:
        return msgspec.convert(terminal_id, fp.TerminalId)
    except msgspec.ValidationError:
        raise ValueError(
            f"not a terminal id: {terminal_id!r} (letters, digits, '.', '_', '-'; 1-64)"
        ) from None


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"not a time zone: {name!r} (e.g. Asia/Jakarta, UTC)") from None
    return name


def register_terminal(
    db: peewee.Database,
    terminal_id: str,
    *,
    store: str,
    group: str,
    public_key_pem: bytes | str,
    timezone: str = "UTC",
    clock: Clock = system_clock,
) -> str:
    """Register ``terminal_id`` (or update its store, group and time zone) and add the
    journal public key ``public_key_pem`` (Ed25519, PEM) to its keys. Returns the key's
    id. ValueError for a malformed id, key or time zone."""
    check_terminal_id(terminal_id)
    check_timezone(timezone)
    pem = public_key_pem.encode() if isinstance(public_key_pem, str) else bytes(public_key_pem)
    try:
        key = load_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an Ed25519 public key in PEM: {exc}") from None
    kid = key_id(key)
    now = _utc(clock)
    with write_transaction(db):
        existing = Terminal.select().where(Terminal.id == terminal_id).bind(db).first()
        if existing is None:
            Terminal.insert(
                id=terminal_id,
                store=store,
                group=group,
                timezone=timezone,
                registered_at=now,
            ).execute(db)
        else:
            Terminal.update(store=store, group=group, timezone=timezone).where(
                Terminal.id == terminal_id
            ).execute(db)
        TerminalKey.insert(
            terminal_id=terminal_id,
            key_id=kid,
            public_key_pem=key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode(),
            added_at=now,
        ).on_conflict_ignore().execute(db)
    return kid


def terminal_keys(db: peewee.Database, terminal_id: str) -> dict[str, Ed25519PublicKey]:
    """The terminal's journal keys by key id (empty for an unknown terminal)."""
    rows = TerminalKey.select().where(TerminalKey.terminal_id == terminal_id).bind(db)
    return {row.key_id: load_public_key(row.public_key_pem.encode()) for row in rows}


def get_terminal(db: peewee.Database, terminal_id: str) -> Terminal | None:
    return Terminal.select().where(Terminal.id == terminal_id).bind(db).first()


def list_terminals(db: peewee.Database) -> list[Terminal]:
    """Every registered terminal, by id (``.unsent``: entries not yet held)."""
    return list(Terminal.select().order_by(Terminal.id).bind(db))


def record_secrets_key(
    db: peewee.Database, terminal_id: str, public_key: str, now: datetime
) -> None:
    """The X25519 key the terminal's PINs are sealed to (hex), as it reported it (its
    state on its own connection, or its enrollment request): the newest one kept."""
    TerminalSecretsKey.insert(
        terminal_id=terminal_id, public_key=public_key, reported_at=now
    ).on_conflict(
        conflict_target=[TerminalSecretsKey.terminal_id],
        update={TerminalSecretsKey.public_key: public_key, TerminalSecretsKey.reported_at: now},
    ).execute(db)
