"""The four passkey categories: switched on or off, each with its code's Argon2id hash."""

from __future__ import annotations

from terminal.core.approval import CATEGORIES
from terminal.core.pins import check_passkey
from terminal.store.cashiers import PinHasher
from terminal.store.models import PasskeyRow


def enabled_categories() -> frozenset[str]:
    rows = PasskeyRow.select().where(PasskeyRow.enabled == True)  # noqa: E712
    return frozenset(row.category for row in rows)


def has_code(category: str) -> bool:
    row = PasskeyRow.get_or_none(PasskeyRow.category == category)
    return bool(row and row.code_hash)


def set_category(
    hasher: PinHasher, category: str, *, enabled: bool, code: str | None = None
) -> None:
    """Switch a category; a new ``code`` (checked: exactly 6 digits, not trivial) is
    hashed, never stored as typed."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown passkey category {category!r}")
    row = PasskeyRow.get_or_none(PasskeyRow.category == category)
    code_hash = hasher.hash(check_passkey(code)) if code else (row.code_hash if row else None)
    PasskeyRow.replace(category=category, enabled=enabled, code_hash=code_hash).execute()


def check_code(hasher: PinHasher, category: str, code: str) -> bool:
    """Whether ``code`` is the category's passkey; as costly when no code is set."""
    row = PasskeyRow.get_or_none(PasskeyRow.category == category)
    if row is None or not row.code_hash:
        hasher.matches(code, hasher.decoy)
        return False
    if not hasher.matches(code, row.code_hash):
        return False
    if hasher.needs_upgrade(row.code_hash):
        PasskeyRow.update(code_hash=hasher.hash(code)).where(
            PasskeyRow.category == category
        ).execute()
    return True
