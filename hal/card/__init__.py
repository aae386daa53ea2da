"""Bank card terminals (semi-integrated: the POS sends the amount, the terminal talks to the bank).

The ZVT client and its byte-exact simulator come with the hardware issue; this is the
interface the application will call, and a simulator that approves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class CardResult:
    approved: bool
    amount: int
    masked_pan: str = ""
    auth_code: str = ""
    trace_number: int = 0
    message: str = ""


class CardTerminal(Protocol):
    def authorise(self, amount: int) -> CardResult: ...


class SimulatorCardTerminal:
    """Approves every amount, with a made-up masked PAN and increasing trace numbers."""

    def __init__(self) -> None:
        self.trace = 0

    def authorise(self, amount: int) -> CardResult:
        if amount <= 0:
            return CardResult(False, amount, message="amount must be positive")
        self.trace += 1
        return CardResult(True, amount, "************0000", f"{self.trace:06d}", self.trace)


def make_card_terminal(cfg: dict[str, Any], data_dir: Path) -> SimulatorCardTerminal:
    backend = cfg.get("backend", "simulator")
    if backend != "simulator":
        raise ValueError(f"hardware.card.backend: unknown {backend!r}; use simulator")
    return SimulatorCardTerminal()
