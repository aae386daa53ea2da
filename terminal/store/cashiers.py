"""Cashiers and their PINs: Argon2id PHC strings, checked in constant time.

The secure-store issue adds the pepper from the key store and the lockout; the PHC
string keeps the parameters so they can be raised later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from terminal.core.pins import check_cashier_pin
from terminal.store.models import CashierRow


@dataclass(frozen=True)
class Argon2Params:
    memory_cost: int = 65536  # KiB (64 MiB)
    iterations: int = 3
    lanes: int = 4


DEFAULT_PARAMS = Argon2Params()
# Tests and benchmarks of other things use cheap parameters; production uses the default.
FAST_TEST_PARAMS = Argon2Params(memory_cost=1024, iterations=1, lanes=1)


@dataclass(frozen=True)
class Cashier:
    id: int
    name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def hash_pin(pin: str, params: Argon2Params = DEFAULT_PARAMS) -> str:
    kdf = Argon2id(
        salt=os.urandom(16),
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    )
    return kdf.derive_phc_encoded(pin.encode())


def pin_matches(pin: str, phc: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(pin.encode(), phc)
    except InvalidKey:
        return False
    return True


def add_cashier(
    cashier_id: int, name: str, role: str, pin: str, params: Argon2Params = DEFAULT_PARAMS
) -> Cashier:
    if role not in ("cashier", "supervisor"):
        raise ValueError(f"role must be cashier or supervisor, got {role!r}")
    check_cashier_pin(pin)
    CashierRow.create(id=cashier_id, name=name, role=role, pin_hash=hash_pin(pin, params))
    return Cashier(cashier_id, name, role)


def authenticate(cashier_id: int, pin: str) -> Cashier | None:
    """The cashier if the PIN is theirs; ``None`` otherwise (never says which part was wrong).

    An unknown operator number costs as much as a wrong PIN, so timing tells nothing.
    """
    row = CashierRow.get_or_none((CashierRow.id == cashier_id) & (CashierRow.active == True))  # noqa: E712
    if row is None:
        pin_matches(pin, _decoy_hash())
        return None
    if not pin_matches(pin, row.pin_hash):
        return None
    return Cashier(row.id, row.name, row.role)


def list_cashiers() -> list[Cashier]:
    return [
        Cashier(r.id, r.name, r.role)
        for r in CashierRow.select().where(CashierRow.active == True).order_by(CashierRow.id)  # noqa: E712
    ]


@cache
def _decoy_hash() -> str:
    """A hash to check against for unknown operator numbers (same cost as a real one)."""
    return hash_pin(os.urandom(8).hex())
