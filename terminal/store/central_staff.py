"""The fleet's cashiers and passkey categories applied to this terminal's tables.

The agent opens the sealed PINs and codes as a bundle arrives and hashes them with the
terminal's pepper at once (:func:`hash_secrets`); the app gets only the hashes (Argon2id
PHC strings) and applies them with the document, in its transaction
(:func:`apply_staff`). A cashier of the terminal not named by the fleet's list (or named
``active = false``) is made inactive and their PIN's hash is dropped: they can no longer
sign in, and named again later they need a new PIN. A cashier named without a PIN here
stays unable to sign in until one comes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from terminal.core.central_staff import StaffEntry, parse_cashiers, parse_passkeys
from terminal.core.config_secrets import cashier_secret, passkey_secret
from terminal.core.pins import PinRuleError, check_cashier_pin, check_passkey
from terminal.store import shop_config
from terminal.store.cashiers import PinHasher
from terminal.store.models import CashierRow, PasskeyRow


@dataclass(frozen=True)
class FleetManaged:
    """What the fleet's configuration in force sets here, so nobody changes it locally."""

    cashiers: bool
    passkeys: frozenset[str]


def fleet_managed(db: Database) -> FleetManaged:
    config = shop_config.current(db)
    document = config.document if config is not None else {}
    passkeys = document.get("passkeys")
    return FleetManaged(
        "cashiers" in document, frozenset(passkeys if isinstance(passkeys, dict) else ())
    )


@dataclass(frozen=True)
class StaffChange:
    cashiers: list[StaffEntry] | None  # None: the document does not manage cashiers
    passkeys: dict[str, bool] | None
    hashes: dict[str, str] = field(default_factory=dict)  # secret name -> PHC string


def hash_secrets(opened: Mapping[str, str], hasher: PinHasher) -> dict[str, str]:
    """Each opened PIN or code checked by the terminal's own rules and hashed with its
    pepper (name -> PHC). ValueError naming the secret (never its value)."""
    hashes = {}
    for name, value in opened.items():
        check = check_passkey if name.startswith("passkey:") else check_cashier_pin
        try:
            check(value)
        except PinRuleError as exc:
            raise ValueError(f"secret {name}: {exc}") from None
        hashes[name] = hasher.hash(value)
    return hashes


def staff_change(document: Mapping[str, Any], hashes: Mapping[str, str]) -> StaffChange | None:
    """What the effective document asks of the staff tables (None: nothing)."""
    cashiers, passkeys = parse_cashiers(document), parse_passkeys(document)
    if cashiers is None and passkeys is None:
        return None
    return StaffChange(cashiers, passkeys, dict(hashes))


def _existing_hashes(db: Database) -> dict[int, str]:
    rows = CashierRow.select(CashierRow.id, CashierRow.pin_hash).tuples().bind(db)
    return {number: phc for number, phc in rows}


def _active_ids(db: Database) -> set[int]:
    rows = CashierRow.select(CashierRow.id).where(CashierRow.active == True)  # noqa: E712
    return {number for (number,) in rows.tuples().bind(db)}


def check_staff_change(db: Database, change: StaffChange, *, passkey_mode: bool) -> None:
    """ValueError when the change would leave no supervisor able to sign in, or (in
    passkey mode) a category switched on without a code."""
    if change.cashiers is not None:
        held = _existing_hashes(db)
        able = [
            c
            for c in change.cashiers
            if c.active
            and c.role == "supervisor"
            and (cashier_secret(c.id) in change.hashes or held.get(c.id))
        ]
        if not able:
            raise ValueError(
                "cashiers: no supervisor could sign in here (none has a PIN on this terminal)"
            )
    if passkey_mode and change.passkeys:
        coded = {row.category for row in PasskeyRow.select().bind(db) if row.code_hash}
        for category, on in change.passkeys.items():
            if on and category not in coded and passkey_secret(category) not in change.hashes:
                raise ValueError(f"passkeys.{category}: on without a code")


def apply_staff(db: Database, change: StaffChange) -> dict[str, list]:
    """Write the change (inside the caller's transaction). Returns what changed, for the
    journal: operator numbers and categories, never a PIN."""
    summary: dict[str, list] = {}
    if change.cashiers is not None:
        held = _existing_hashes(db)
        active_before = _active_ids(db)  # (one removed earlier is not removed again)
        added, removed, pins = [], [], []
        listed = {c.id for c in change.cashiers}
        for entry in change.cashiers:
            phc = change.hashes.get(cashier_secret(entry.id)) if entry.active else None
            if phc:
                pins.append(entry.id)
            active = entry.active and bool(phc or held.get(entry.id))
            values: dict[str, Any] = {"name": entry.name, "role": entry.role, "active": active}
            if phc:
                values.update(pin_hash=phc, peppered=True)
            elif not entry.active:  # removed: named again later, they need a new PIN
                values["pin_hash"] = ""
            if entry.id in held:
                CashierRow.update(**values).where(CashierRow.id == entry.id).execute(db)
                if not entry.active and entry.id in active_before:
                    removed.append(entry.id)
            else:
                values.setdefault("pin_hash", "")
                CashierRow.insert(id=entry.id, **values).execute(db)
                if entry.active:  # (one named inactive only is no one added)
                    added.append(entry.id)
        gone = [number for number in held if number not in listed]
        if gone:
            CashierRow.update(active=False, pin_hash="").where(CashierRow.id.in_(gone)).execute(db)
        removed += [number for number in gone if number in active_before]
        summary.update(
            cashiers_added=sorted(added), cashiers_removed=sorted(removed), pins_set=sorted(pins)
        )
    if change.passkeys is not None:
        codes = []
        for category, on in change.passkeys.items():
            row = PasskeyRow.select().where(PasskeyRow.category == category).bind(db).first()
            phc = change.hashes.get(passkey_secret(category))
            if phc:
                codes.append(category)
            PasskeyRow.replace(
                category=category, enabled=on, code_hash=phc or (row.code_hash if row else None)
            ).execute(db)
        summary.update(passkeys=dict(change.passkeys), passkey_codes_set=sorted(codes))
    return summary
