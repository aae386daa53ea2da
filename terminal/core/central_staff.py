"""Cashiers, supervisors and passkey categories named by the fleet's documents.

Two sections of a configuration document (:mod:`terminal.core.signed_config`)::

    [[cashiers]]            # merged by id: a more specific scope replaces the entry
    id = 7                  # the operator number typed at sign-in (1-999999)
    name = "Ani"
    role = "supervisor"     # cashier | supervisor
    active = true           # false: removed here (e.g. a terminal's scope removes one
                            # of its group's)

    [passkeys]              # the categories the fleet sets (one not listed keeps its
    discounts = true        # state on the terminal)
    customers = false

When the effective document has a ``cashiers`` section, it is the whole list: a cashier
of the terminal who is not in it (or is ``active = false``) can no longer sign in after
the apply. Their PINs and the passkeys' codes travel sealed beside the documents
(:mod:`terminal.core.config_secrets`); a cashier named without a PIN the terminal holds
waits, unable to sign in, until one comes.

Pure: no store, no UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from terminal.core.approval import CATEGORIES
from terminal.core.config_secrets import cashier_secret, passkey_secret

ROLES = ("cashier", "supervisor")
MAX_ID = 999_999  # six digits at sign-in
MAX_NAME = 40


@dataclass(frozen=True)
class StaffEntry:
    id: int
    name: str
    role: str
    active: bool = True


def parse_cashiers(document: Mapping[str, Any]) -> list[StaffEntry] | None:
    """The document's cashiers (None without the section). ValueError naming the entry."""
    if "cashiers" not in document:
        return None
    entries = document["cashiers"]
    if not isinstance(entries, list):
        raise ValueError("cashiers: expected a list")
    seen: set[int] = set()
    parsed = []
    for i, entry in enumerate(entries, 1):
        where = f"cashiers entry {i}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a table")
        unknown = set(entry) - {"id", "name", "role", "active"}
        if unknown:
            raise ValueError(f"{where}: unknown {', '.join(sorted(unknown))}")
        number = entry.get("id")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= MAX_ID:
            raise ValueError(f"{where}: id is an operator number, 1 to {MAX_ID}")
        where = f"cashier {number}"
        if number in seen:
            raise ValueError(f"{where}: listed twice")
        seen.add(number)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise ValueError(f"{where}: name is 1 to {MAX_NAME} characters")
        role = entry.get("role", "cashier")
        if role not in ROLES:
            raise ValueError(f"{where}: role is cashier or supervisor, not {role!r}")
        active = entry.get("active", True)
        if not isinstance(active, bool):
            raise ValueError(f"{where}: active is true or false")
        parsed.append(StaffEntry(number, name.strip(), role, active))
    return parsed


def parse_passkeys(document: Mapping[str, Any]) -> dict[str, bool] | None:
    """The passkey categories the document switches (None without the section)."""
    if "passkeys" not in document:
        return None
    table = document["passkeys"]
    if not isinstance(table, Mapping):
        raise ValueError("passkeys: expected a table")
    flags = {}
    for category, on in table.items():
        if category not in CATEGORIES:
            raise ValueError(f"passkeys.{category}: not a category ({', '.join(CATEGORIES)})")
        if not isinstance(on, bool):
            raise ValueError(f"passkeys.{category}: true or false")
        flags[category] = on
    return flags


def check_staff(document: Mapping[str, Any], *, effective: bool = False) -> None:
    """The staff sections' shape; for a terminal's ``effective`` document also a list of
    cashiers with at least one active supervisor (someone must be able to approve and
    close the day; one scope's document may add cashiers alone). ValueError."""
    cashiers = parse_cashiers(document)
    parse_passkeys(document)
    if (
        effective
        and cashiers is not None
        and not any(c.active and c.role == "supervisor" for c in cashiers)
    ):
        raise ValueError("cashiers: at least one active supervisor")


def secret_names(document: Mapping[str, Any]) -> list[str]:
    """The secrets the effective document can use: each active cashier's PIN and each
    passkey category's code it names."""
    names = [cashier_secret(c.id) for c in parse_cashiers(document) or [] if c.active]
    names += [passkey_secret(category) for category in parse_passkeys(document) or {}]
    return names
