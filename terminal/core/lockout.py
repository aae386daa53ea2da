"""Lockout after wrong PINs and passkeys.

After ``max_failures`` wrong entries in a row for one subject (a cashier number, a
passkey category), attempts are refused for ``first_lock_seconds``. Every further wrong
entry after that locks again for twice as long as the previous lock (up to
``max_lock_seconds``) - the period grows until a right entry resets everything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    first_lock_seconds: int = 30
    max_lock_seconds: int = 3600


@dataclass(frozen=True)
class FailureState:
    failures: int = 0  # wrong entries since the last right one
    lockouts: int = 0  # locks imposed since the last right one
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def seconds_left(self, now: datetime) -> int:
        if not self.is_locked(now):
            return 0
        return max(1, int((self.locked_until - now).total_seconds() + 0.999))


def after_failure(state: FailureState, policy: LockoutPolicy, now: datetime) -> FailureState:
    """The state after one more wrong entry; ``locked_until`` set when it locks."""
    failures = state.failures + 1
    if failures < policy.max_failures:
        return replace(state, failures=failures)
    seconds = min(policy.first_lock_seconds * 2**state.lockouts, policy.max_lock_seconds)
    return FailureState(failures, state.lockouts + 1, now + timedelta(seconds=seconds))


def after_success() -> FailureState:
    return FailureState()
