"""Checking PINs and passkeys with the lockout, and giving approvals.

Every wrong entry counts toward its subject's lockout (``cashier:<n>`` for a PIN,
``passkey:<category>`` for a category passkey) and is journaled; a refusal never says
which part was wrong; neither the code nor what was typed is ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from peewee import Database

from terminal.config import Settings
from terminal.core.approval import (
    BY_PASSKEY,
    CATEGORY_NAMES,
    PASSKEY_MODE,
    Approval,
    ApprovalPolicy,
)
from terminal.core.clock import Clock
from terminal.core.digits import is_digits
from terminal.core.errors import N_, PosError
from terminal.core.lockout import after_failure, after_success
from terminal.store import passkeys
from terminal.store.cashiers import (
    Cashier,
    PinHasher,
    cashier_exists,
    check_pin,
    load_failures,
    save_failures,
)
from terminal.store.central_staff import fleet_managed
from terminal.store.journal import Journal

log = logging.getLogger(__name__)
T = TypeVar("T")


class CodeRefused(PosError):
    pass


class Guard:
    """Runs a PIN or passkey check under the lockout rules, journaling failures."""

    def __init__(
        self, settings: Callable[[], Settings], db: Database, journal: Journal, clock: Clock
    ) -> None:
        # ``settings``: the settings in force now (a shop configuration may change them)
        self._settings, self.db, self.journal, self.clock = settings, db, journal, clock

    @property
    def settings(self) -> Settings:
        return self._settings()

    def check(self, subject: str, attempt: Callable[[], T | None], wrong: PosError) -> T:
        now = self.clock()
        state = load_failures(self.db, subject)
        if state.is_locked(now):
            self.journal.append("failed_pin", {"subject": subject, "locked": True}, now)
            raise CodeRefused(
                N_("Too many wrong PINs: try again in {seconds} s"),
                seconds=state.seconds_left(now),
            )
        result = attempt()
        with self.db.atomic():
            if result is None:
                state = after_failure(state, self.settings.security.lockout, now)
                save_failures(self.db, subject, state)
                self.journal.append(
                    "failed_pin", {"subject": subject, "failures": state.failures}, now
                )
                if state.is_locked(now):
                    self.journal.append(
                        "lockout",
                        {"subject": subject, "until": state.locked_until.isoformat()},
                        now,
                    )
            else:
                save_failures(self.db, subject, after_success())
        if result is None:
            log.info("code refused for %s", subject)
            raise wrong
        return result


def operator_subject(db: Database, operator: int) -> str:
    """Only a known cashier's number is written down; unknown ones share one subject
    (what was typed as a number may be a PIN typed ahead)."""
    return f"cashier:{operator}" if cashier_exists(db, operator) else "cashier:unknown"


class Approvals:
    def __init__(self, settings: Callable[[], Settings], guard: Guard, hasher: PinHasher) -> None:
        self._settings = settings  # the settings in force now
        self.guard = guard
        self.hasher = hasher

    @property
    def settings(self) -> Settings:
        return self._settings()

    @property
    def mode(self) -> str:
        return self.settings.approval.mode

    @property
    def policy(self) -> ApprovalPolicy:
        rules = self.settings.approval
        return ApprovalPolicy(
            enabled=passkeys.enabled_categories(self.guard.db),
            void_window=rules.void_window,
            cashier_discount_percent=rules.cashier_discount_percent,
        )

    def approve(
        self, category: str, asked_by: Cashier, code: str, supervisor: str = "", action: str = ""
    ) -> Approval:
        """An approval for one action: the category's passkey, or (supervisor mode) a
        supervisor's number and own PIN. A supervisor signed in approves with their PIN
        too: the approval is an act of its own, journaled."""
        if self.mode == PASSKEY_MODE:
            wrong = CodeRefused(N_("Wrong passkey"))
            self.guard.check(
                f"passkey:{category}",
                lambda: (
                    True
                    if passkeys.check_code(self.guard.db, self.hasher, category, code)
                    else None
                ),
                wrong,
            )
            return Approval(category, asked_by.id, BY_PASSKEY, action)
        wrong = CodeRefused(N_("Wrong supervisor number or PIN"))
        if not is_digits(supervisor) or len(supervisor) > 6:
            raise wrong
        number = int(supervisor)

        def attempt() -> Cashier | None:
            found = check_pin(self.guard.db, self.hasher, number, code) if is_digits(code) else None
            return found if found and found.is_supervisor else None

        approver = self.guard.check(operator_subject(self.guard.db, number), attempt, wrong)
        return Approval(category, asked_by.id, approver.id, action)

    def has_code(self, category: str) -> bool:
        """Whether the category's passkey has been set (so it can be changed)."""
        return passkeys.has_code(self.guard.db, category)

    def configure(
        self, actor: Cashier | None, category: str, *, enabled: bool, code: str | None, at
    ) -> None:
        """Switch a category on or off (a supervisor's act), journaled without the code."""
        if actor is None or not actor.is_supervisor:
            raise PosError(N_("Only a supervisor can change the passkeys"))
        if category in fleet_managed(self.guard.db).passkeys:
            raise PosError(
                N_("The fleet sets the passkey for {category}: it cannot be changed here"),
                category=CATEGORY_NAMES[category],
            )
        if (
            enabled
            and self.mode == PASSKEY_MODE
            and not code
            and not passkeys.has_code(self.guard.db, category)
        ):
            raise PosError(
                N_("Set a 6-digit passkey for {category} first"),
                category=CATEGORY_NAMES[category],
            )
        with self.guard.db.atomic():
            passkeys.set_category(
                self.guard.db, self.hasher, category, enabled=enabled, code=code or None
            )
            self.guard.journal.append(
                "passkey_change",
                {
                    "category": category,
                    "enabled": enabled,
                    "code_changed": bool(code),
                    "by": actor.id,
                },
                at,
            )
