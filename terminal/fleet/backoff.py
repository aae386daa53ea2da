"""Reconnect delays with full jitter (AWS's "Exponential Backoff And Jitter"): the n-th
wait in a row is uniform(0, min(cap, base * 2**n)). Thousands of terminals that lost the
broker at once come back spread over the whole window instead of in waves."""

from __future__ import annotations

import random as _random
from collections.abc import Callable

MAX_EXPONENT = 62  # 2**62 * base is past any cap; keeps the float finite


class Backoff:
    """``random(low, high)``: a uniform draw (injected in tests)."""

    def __init__(
        self,
        base: float,
        cap: float,
        random: Callable[[float, float], float] = _random.uniform,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff: base must be above 0 and cap at least base")
        self.base = base
        self.cap = cap
        self.random = random
        self.attempt = 0  # waits in a row since the last good connection

    def ceiling(self) -> float:
        """The longest the next wait can be."""
        return min(self.cap, self.base * 2 ** min(self.attempt, MAX_EXPONENT))

    def next_delay(self) -> float:
        """The next wait, in seconds; each call widens the window (up to the cap)."""
        high = self.ceiling()
        self.attempt += 1
        return min(high, max(0.0, self.random(0.0, high)))

    def reset(self) -> None:
        """A connection that proved good: the next loss starts from the base again."""
        self.attempt = 0
