"""What every device kind shares, after gpiozero's ``Device``: a lifecycle, health, and
backends chosen by name from one table per kind, each with its typed settings beside it.

Lifecycle: a device is made from its settings (nothing opened yet), :meth:`Device.start`
begins its work (opens the line, starts reading), :meth:`Device.stop` ends it (it may be
started again), :meth:`Device.close` releases it for good. ``with device:`` starts and
closes. :meth:`Device.health` names what is wrong now (``printer-paper-out``,
``scanner-missing``), an empty list when nothing is. Devices that report input (a
scanner's codes, a keypad's keys) deliver it to the one handler given to
:meth:`InputDevice.listen`.

Settings: each backend has a :class:`BackendSettings` struct (msgspec) with its own keys,
types and limits; :func:`configure` checks a ``[hardware.KIND]`` table against the
backend it names and refuses an unknown key, a wrong type or a missing one with the key
named (``hardware.printer.device: needed by the serial backend``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import msgspec


class Device:
    """The lifecycle, with nothing to do: subclasses override what they need."""

    kind: ClassVar[str] = "device"
    _closed: bool = False

    def start(self) -> None:
        """Begin working. Calling it on a started device does nothing."""

    def stop(self) -> None:
        """Stop working (threads end, lines stay open); :meth:`start` may follow."""

    def close(self) -> None:
        """Stop and release everything (lines, pins) for good. Idempotent."""
        self.stop()
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def health(self) -> list[str]:
        """What is wrong now, as event names; [] when nothing is."""
        return []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


V = TypeVar("V")


class InputDevice(Device, Generic[V]):
    """A device that reports input to one handler (set before or after start).

    Subclasses put their work in :meth:`begin` (open, start a reader thread) and
    :meth:`end`; :meth:`start` and :meth:`stop` make both idempotent."""

    _listener: Callable[[V], None] | None = None
    _running: bool = False

    def listen(self, handler: Callable[[V], None] | None) -> None:
        self._listener = handler

    def start(self, handler: Callable[[V], None] | None = None) -> None:
        """Begin reporting (to ``handler`` when given, as :meth:`listen` sets it)."""
        if handler is not None:
            self.listen(handler)
        if not self._running:
            self._running = True
            self.begin()

    def stop(self) -> None:
        if self._running:
            self._running = False
            self.end()

    def begin(self) -> None:
        """Start reading (a thread, a pipe); input goes to :meth:`deliver`."""

    def end(self) -> None:
        """Stop reading."""

    def deliver(self, value: V) -> None:
        """Hand one input to the handler; dropped when nobody listens."""
        listener = self._listener
        if listener is not None:
            listener(value)


class BackendSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """A backend's own keys. Unknown keys are refused."""


S = TypeVar("S", bound=BackendSettings)


@dataclass(frozen=True)
class DeviceEnv:
    """What a backend may need besides its settings."""

    data_dir: Path
    currency: str = "IDR"
    printer: Any = None  # the receipt printer: a drawer on its kick port needs it
    records: Any = None  # the card terminal's payment records (hal.card.payments)


@dataclass(frozen=True)
class Backend(Generic[S]):
    settings: type[S]
    make: Callable[[S, DeviceEnv], Device]


@dataclass(frozen=True)
class DeviceConfig:
    """One ``[hardware.KIND]`` table, checked: the backend's name and its typed settings."""

    kind: str
    backend: str
    settings: BackendSettings


class DeviceConfigError(ValueError):
    """A ``[hardware.KIND]`` table that cannot work; the message names the key."""


_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`(?: - at `\$(.*)`)?")
_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$(.*)`)?")
_AT = re.compile(r"(.*) - at `\$\.?(.*)`")


def _explain(kind: str, backend: str, message: str) -> str:
    where = f"hardware.{kind}"
    if match := _UNKNOWN.fullmatch(message):
        return f"{where}.{match[1]}: unknown key for the {backend} backend"
    if match := _MISSING.fullmatch(message):
        return f"{where}.{match[1]}: needed by the {backend} backend"
    if match := _AT.fullmatch(message):
        detail = match[1].replace("`", "")
        return f"{where}.{match[2]}: {detail[0].lower()}{detail[1:]}"
    return f"{where}.{message}"  # a check of the struct's own: "key: what is wrong"


def configure(
    kind: str, table: Mapping[str, Any], backends: Mapping[str, Backend], default: str
) -> DeviceConfig:
    """Check a ``[hardware.KIND]`` table against the backend it names."""
    values = dict(table)
    backend = values.pop("backend", default)
    if backend not in backends:
        raise DeviceConfigError(
            f"hardware.{kind}.backend: unknown {backend!r}; use {', '.join(backends)}"
        )
    try:
        settings = msgspec.convert(values, backends[backend].settings)
    except msgspec.ValidationError as exc:
        raise DeviceConfigError(_explain(kind, backend, str(exc))) from None
    return DeviceConfig(kind, backend, settings)


def build(config: DeviceConfig, backends: Mapping[str, Backend], env: DeviceEnv) -> Device:
    """Make the device a checked configuration names (nothing is opened yet)."""
    return backends[config.backend].make(config.settings, env)
