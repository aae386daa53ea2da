"""The four passkey categories: switched on or off, each with its code's Argon2id hash."""

from __future__ import annotations

from peewee import Database

from terminal.core.approval import CATEGORIES
from terminal.core.pins import check_passkey
from terminal.store.cashiers import PinHasher
from terminal.store.models import PasskeyRow


def enabled_categories(db: Database) -> frozenset[str]:
    rows = PasskeyRow.select().where(PasskeyRow.enabled == True).bind(db)  # noqa: E712
    return frozenset(row.category for row in rows)


def _row(db: Database, category: str) -> PasskeyRow | None:
    return PasskeyRow.select().where(PasskeyRow.category == category).first(db)


def has_code(db: Database, category: str) -> bool:
    row = _row(db, category)
    return bool(row and row.code_hash)


def set_category(
    db: Database, hasher: PinHasher, category: str, *, enabled: bool, code: str | None = None
) -> None:
    """Switch a category; a new ``code`` (checked: exactly 6 digits, not trivial) is
    hashed, never stored as typed."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown passkey category {category!r}")
    row = _row(db, category)
    code_hash = hasher.hash(check_passkey(code)) if code else (row.code_hash if row else None)
    PasskeyRow.replace(category=category, enabled=enabled, code_hash=code_hash).execute(db)


def check_code(db: Database, hasher: PinHasher, category: str, code: str) -> bool:
    """Whether ``code`` is the category's passkey; as costly when no code is set."""
    row = _row(db, category)
    if row is None or not row.code_hash:
        hasher.matches(code, hasher.decoy)
        return False
    if not hasher.matches(code, row.code_hash):
        return False
    if hasher.needs_upgrade(row.code_hash):
        PasskeyRow.update(code_hash=hasher.hash(code)).where(
            PasskeyRow.category == category
        ).execute(db)
    return True
