"""Bank card terminals, semi-integrated over ZVT: the register sends the amount, the
terminal talks to the bank, and only masked PAN, auth code, trace and receipt numbers,
terminal id and amount come back.

Backends (``[hardware.card] backend``):
- ``zvt-serial``: a terminal on a serial line (``device``, ideally /dev/serial/by-id/...,
  ``baudrate`` 9600 or 115200, 8N2), ZVT framing with ACK/NAK.
- ``zvt-tcp``: a terminal on the network (``host``, ``port`` 20007).
- ``simulator``: the ZVT terminal simulator started in-process on a pseudo-terminal and
  driven over the very same serial protocol; approves after ``approve_after`` seconds.
  As a real terminal it is set up with its own password and currency, which a register
  must match: ``terminal_password`` (default: ``password``, so the two agree) and
  ``terminal_currency`` (an ISO code, default: the shop's). Set either apart to see the
  refusals (84 37: wrong password; 6F: wrong currency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from hal.card.payments import CardPayment, CardPaymentDesk, MemoryRecords, PaymentRecords
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.simulator import Script, ZvtSimulator
from hal.card.zvt.transport import LinkLost
from hal.device import Backend, BackendSettings, DeviceConfig, DeviceEnv, build, configure

CURRENCY_NUMBERS = {"IDR": 360, "MNT": 496, "CNY": 156}
# what a simulated terminal may be set up with (ISO 4217): the shop's, or another to try
TERMINAL_CURRENCIES = {**CURRENCY_NUMBERS, "EUR": 978, "USD": 840}

__all__ = ["BACKENDS", "CardPayment", "CardPaymentDesk", "make_card_terminal"]


class CardSettings(BackendSettings, kw_only=True):
    password: Annotated[int, msgspec.Meta(ge=0, le=999999)] = 0  # the terminal's 6 digits


class SimulatorCardSettings(CardSettings, kw_only=True):
    approve_after: Annotated[float, msgspec.Meta(ge=0)] = 2.0  # seconds
    # the simulated terminal's own set-up; None: the same as the register's
    terminal_password: Annotated[int, msgspec.Meta(ge=0, le=999999)] | None = None
    terminal_currency: str | None = None  # IDR, MNT, CNY, EUR, USD

    def __post_init__(self) -> None:
        if self.terminal_currency is not None and (
            self.terminal_currency not in TERMINAL_CURRENCIES
        ):
            raise ValueError(f"terminal_currency: use one of {', '.join(TERMINAL_CURRENCIES)}")


class SerialCardSettings(CardSettings, kw_only=True):
    device: str  # /dev/serial/by-id/usb-...
    baudrate: Literal[9600, 19200, 38400, 57600, 115200] = 9600  # 8N2


class TcpCardSettings(CardSettings, kw_only=True):
    host: str
    port: int = 20007


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
    """The ZVT simulator on a pty and a serial link to it, started at first use. The
    simulated terminal has its own password and currency (ISO 4217 numeric), by default
    the register's (``options``)."""

    def __init__(
        self,
        approve_after: float,
        options: dict[str, int],
        *,
        terminal_password: int | None = None,
        terminal_currency: int | None = None,
    ) -> None:
        self.approve_after = approve_after
        self.options = options
        self.terminal_password = (
            options["password"] if terminal_password is None else terminal_password
        )
        self.terminal_currency = (
            options["currency"] if terminal_currency is None else terminal_currency
        )
        self._link: SerialLink | None = None
        self.simulator: ZvtSimulator | None = None

    def _started(self) -> SerialLink:
        if self._link is None:
            self.simulator = ZvtSimulator(
                Script(delay=self.approve_after),
                password=self.terminal_password,
                currency=self.terminal_currency,
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


def _options(s: CardSettings, env: DeviceEnv) -> dict[str, int]:
    return {"password": s.password, "currency": CURRENCY_NUMBERS.get(env.currency, 360)}


def _desk(link, env: DeviceEnv) -> CardPaymentDesk:
    return CardPaymentDesk(link, env.records or MemoryRecords())


def _simulator(s: SimulatorCardSettings, env: DeviceEnv) -> SimulatorLink:
    currency = TERMINAL_CURRENCIES[s.terminal_currency] if s.terminal_currency else None
    return SimulatorLink(
        s.approve_after,
        _options(s, env),
        terminal_password=s.terminal_password,
        terminal_currency=currency,
    )


BACKENDS: dict[str, Backend] = {
    "simulator": Backend(SimulatorCardSettings, lambda s, env: _desk(_simulator(s, env), env)),
    "zvt-serial": Backend(
        SerialCardSettings,
        lambda s, env: _desk(
            LazyLink(lambda: SerialLink(s.device, baudrate=s.baudrate, **_options(s, env))), env
        ),
    ),
    "zvt-tcp": Backend(
        TcpCardSettings,
        lambda s, env: _desk(LazyLink(lambda: TcpLink(s.host, s.port, **_options(s, env))), env),
    ),
}


def configure_card(table: dict[str, Any]) -> DeviceConfig:
    return configure("card", table, BACKENDS, "simulator")


def make_card_terminal(
    cfg: dict[str, Any] | DeviceConfig,
    data_dir: Path,
    *,
    currency: str = "IDR",
    records: PaymentRecords | None = None,
) -> CardPaymentDesk:
    """A payment desk on the configured terminal. Nothing is sent until the first payment."""
    config = cfg if isinstance(cfg, DeviceConfig) else configure_card(cfg)
    env = DeviceEnv(data_dir, currency=currency, records=records)
    return build(config, BACKENDS, env)  # type: ignore[return-value]
