"""Injected time. Core never reads the system clock itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock for tests and simulations: starts at a given instant, moves when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
