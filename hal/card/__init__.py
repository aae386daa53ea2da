"""Bank card terminals, semi-integrated over ZVT: the register sends the amount, the
terminal talks to the bank, and only masked PAN, auth code, trace and receipt numbers,
terminal id and amount come back.

Backends (``[hardware.card] backend``):
- ``zvt-serial``: a terminal on a serial line (``device``, ideally /dev/serial/by-id/...,
  ``baudrate`` 9600 or 115200, 8N2), ZVT framing with ACK/NAK.
- ``zvt-tcp``: a terminal on the network (``host``, ``port`` 20007).
- ``simulator``: the ZVT terminal simulator started in-process on a pseudo-terminal and
  driven over the very same serial protocol; approves after ``approve_after`` seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hal.card.payments import CardPayment, CardPaymentDesk, MemoryRecords, PaymentRecords
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.simulator import Script, ZvtSimulator
from hal.card.zvt.transport import LinkLost

BACKENDS = ("simulator", "zvt-serial", "zvt-tcp")
CURRENCY_NUMBERS = {"IDR": 360, "MNT": 496, "CNY": 156}

__all__ = ["BACKENDS", "CardPayment", "CardPaymentDesk", "check_card_config", "make_card_terminal"]


def check_card_config(cfg: dict[str, Any]) -> None:
    backend = cfg.get("backend", "simulator")
    if backend not in BACKENDS:
        raise ValueError(f"backend: unknown {backend!r}; use {', '.join(BACKENDS)}")
    if backend == "zvt-serial" and "device" not in cfg:
        raise ValueError("device: needed by the zvt-serial backend")
    if backend == "zvt-tcp" and "host" not in cfg:
        raise ValueError("host: needed by the zvt-tcp backend")
    if int(cfg.get("baudrate", 9600)) not in (9600, 19200, 38400, 57600, 115200):
        raise ValueError("baudrate: ZVT terminals use 9600 or 115200 (8N2)")
    password = int(cfg.get("password", 0))
    if not 0 <= password <= 999999:
        raise ValueError("password: the terminal's 6-digit password")


class LazyLink:
    """Opens the real link at first use: a card terminal that is off or unplugged when the
    POS starts must not stop it from starting (cash sales go on)."""

    def __init__(self, open_link) -> None:
        self._open = open_link
        self._link = None

    def _started(self):
        if self._link is None:
            try:
                self._link = self._open()
            except OSError as exc:  # pyserial's SerialException is one too
                raise LinkLost(f"card terminal not connected: {exc}") from None
        return self._link

    @property
    def client(self):
        return self._started().client

    def reconnect(self):
        if self._link is None:
            return self._started().client
        return self._link.reconnect()

    def close(self) -> None:
        if self._link is not None:
            self._link.close()


class SimulatorLink:
    """The ZVT simulator on a pty and a serial link to it, started at first use."""

    def __init__(self, approve_after: float, options: dict[str, int]) -> None:
        self.approve_after = approve_after
        self.options = options
        self._link: SerialLink | None = None
        self.simulator: ZvtSimulator | None = None

    def _started(self) -> SerialLink:
        if self._link is None:
            self.simulator = ZvtSimulator(
                Script(delay=self.approve_after), password=self.options["password"]
            )
            self._link = SerialLink(self.simulator.start_pty(), **self.options)
        return self._link

    @property
    def transport(self):
        return self._started().transport

    @property
    def client(self):
        return self._started().client

    def reconnect(self):
        return self._started().reconnect()

    def close(self) -> None:
        if self._link:
            self._link.close()
            self.simulator.stop()


def make_card_terminal(
    cfg: dict[str, Any],
    data_dir: Path,
    *,
    currency: str = "IDR",
    records: PaymentRecords | None = None,
) -> CardPaymentDesk:
    """A payment desk on the configured terminal. Nothing is sent until the first payment."""
    backend = cfg.get("backend", "simulator")
    options = {
        "password": int(cfg.get("password", 0)),
        "currency": CURRENCY_NUMBERS.get(currency, 360),
    }
    if backend == "simulator":
        link = SimulatorLink(float(cfg.get("approve_after", 2.0)), options)
    elif backend == "zvt-serial":
        link = LazyLink(
            lambda: SerialLink(cfg["device"], baudrate=int(cfg.get("baudrate", 9600)), **options)
        )
    elif backend == "zvt-tcp":
        link = LazyLink(lambda: TcpLink(cfg["host"], int(cfg.get("port", 20007)), **options))
    else:
        raise ValueError(f"hardware.card.backend: unknown {backend!r}")
    return CardPaymentDesk(link, records or MemoryRecords())
