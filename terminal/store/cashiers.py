"""Cashiers and their PINs: Argon2id PHC strings with a secret pepper, and lockout state.

The pepper (Argon2's ``secret``) lives in the key store, not in the database: a stolen
database - even decrypted - cannot be used to test a single PIN guess. A 6-digit code has
only 10^6 values, so the pepper and the lockout protect it, not the hash alone.
Parameters are stored in each PHC string; a hash made with weaker parameters than the
current ones is replaced at the next right entry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC
from functools import cached_property

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from peewee import Database

from terminal.core.lockout import FailureState
from terminal.core.pins import check_cashier_pin
from terminal.store.models import AuthFailureRow, CashierRow


@dataclass(frozen=True)
class Argon2Params:
    memory_cost: int = 65536  # KiB (64 MiB)
    iterations: int = 3
    lanes: int = 4

    def weaker_than(self, other: Argon2Params) -> bool:
        """Any parameter below the current one: the hash is re-made at the next right PIN."""
        return (
            self.memory_cost < other.memory_cost
            or self.iterations < other.iterations
            or self.lanes < other.lanes
        )


DEFAULT_PARAMS = Argon2Params()
# Tests and benchmarks of other things use cheap parameters; production uses the default.
FAST_TEST_PARAMS = Argon2Params(memory_cost=1024, iterations=1, lanes=1)
_PHC = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


@dataclass(frozen=True)
class Cashier:
    id: int
    name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


class PinHasher:
    """Hashes and checks PINs with the terminal's pepper."""

    def __init__(self, pepper: bytes | None, params: Argon2Params = DEFAULT_PARAMS) -> None:
        self._pepper = pepper  # None only for hashes made before the pepper existed
        self.params = params

    def hash(self, pin: str) -> str:
        kdf = Argon2id(
            salt=os.urandom(16),
            length=32,
            iterations=self.params.iterations,
            lanes=self.params.lanes,
            memory_cost=self.params.memory_cost,
            secret=self._pepper,
        )
        return kdf.derive_phc_encoded(pin.encode())

    def matches(self, pin: str, phc: str, *, peppered: bool = True) -> bool:
        secret = self._pepper if peppered else None
        try:
            Argon2id.verify_phc_encoded(pin.encode(), phc, secret=secret)
        except InvalidKey:
            return False
        return True

    def needs_upgrade(self, phc: str) -> bool:
        match = _PHC.match(phc)
        if not match:
            return True
        stored = Argon2Params(int(match[1]), int(match[2]), int(match[3]))
        return stored.weaker_than(self.params)

    @cached_property
    def decoy(self) -> str:
        """A hash to check against for unknown operator numbers (same cost as a real one)."""
        return self.hash(os.urandom(8).hex())


def add_cashier(
    db: Database, hasher: PinHasher, cashier_id: int, name: str, role: str, pin: str
) -> Cashier:
    if role not in ("cashier", "supervisor"):
        raise ValueError(f"role must be cashier or supervisor, got {role!r}")
    check_cashier_pin(pin)
    CashierRow.insert(id=cashier_id, name=name, role=role, pin_hash=hasher.hash(pin)).execute(db)
    return Cashier(cashier_id, name, role)


def set_pin(db: Database, hasher: PinHasher, cashier_id: int, pin: str) -> Cashier:
    """Give a cashier a new PIN (and activate an imported one)."""
    check_cashier_pin(pin)
    row = CashierRow.select().where(CashierRow.id == cashier_id).first(db)
    if row is None:
        raise ValueError(f"no cashier {cashier_id}")
    CashierRow.update(pin_hash=hasher.hash(pin), peppered=True, active=True).where(
        CashierRow.id == cashier_id
    ).execute(db)
    return Cashier(row.id, row.name, row.role)


def check_pin(db: Database, hasher: PinHasher, cashier_id: int, pin: str) -> Cashier | None:
    """The cashier if the PIN is theirs, else ``None`` - never which part was wrong.

    An unknown operator number costs as much as a wrong PIN, so timing tells nothing.
    A right PIN under old parameters is re-hashed with the current ones.
    """
    active = (CashierRow.id == cashier_id) & (CashierRow.active == True)  # noqa: E712
    row = CashierRow.select().where(active).first(db)
    if row is None:
        hasher.matches(pin, hasher.decoy)
        return None
    if not hasher.matches(pin, row.pin_hash, peppered=row.peppered):
        return None
    if not row.peppered or hasher.needs_upgrade(row.pin_hash):
        CashierRow.update(pin_hash=hasher.hash(pin), peppered=True).where(
            CashierRow.id == row.id
        ).execute(db)
    return Cashier(row.id, row.name, row.role)


def cashier_exists(db: Database, cashier_id: int) -> bool:
    return (
        CashierRow.select()
        .where(
            (CashierRow.id == cashier_id) & (CashierRow.active == True)  # noqa: E712
        )
        .bind(db)
        .exists()
    )


def cashier_count(db: Database) -> int:
    """Every cashier, those waiting for a PIN included."""
    return CashierRow.select().count(db)


def list_cashiers(db: Database) -> list[Cashier]:
    rows = CashierRow.select().where(CashierRow.active == True).order_by(CashierRow.id)  # noqa: E712
    return [Cashier(r.id, r.name, r.role) for r in rows.bind(db)]


def load_failures(db: Database, subject: str) -> FailureState:
    row = AuthFailureRow.select().where(AuthFailureRow.subject == subject).first(db)
    if row is None:
        return FailureState()
    until = row.locked_until.replace(tzinfo=UTC) if row.locked_until else None
    return FailureState(row.failures, row.lockouts, until)


def save_failures(db: Database, subject: str, state: FailureState) -> None:
    if state == FailureState():
        AuthFailureRow.delete().where(AuthFailureRow.subject == subject).execute(db)
        return
    until = state.locked_until.astimezone(UTC).replace(tzinfo=None) if state.locked_until else None
    AuthFailureRow.replace(
        subject=subject, failures=state.failures, lockouts=state.lockouts, locked_until=until
    ).execute(db)
