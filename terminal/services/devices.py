"""The terminal's devices, made from the typed hardware settings, started together and
closed together, their health read in one place."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from hal import card as cards
from hal import display as displays
from hal import drawer as drawers
from hal import keypad as keypads
from hal import scanner as scanners
from hal.card.payments import CardPaymentDesk, PaymentRecords
from hal.device import Device, DeviceEnv, build
from hal.display import CustomerDisplay
from hal.keypad import Keypad
from hal.printer import backends as printers
from hal.scanner import Scanner
from terminal.config import HardwareSettings

log = logging.getLogger(__name__)


@dataclass
class Devices:
    printer: Device
    drawer: Device
    scanner: Scanner
    keypad: Keypad
    card: CardPaymentDesk
    display: CustomerDisplay

    def __iter__(self) -> Iterator[tuple[str, Device]]:
        for field in fields(self):
            yield field.name, getattr(self, field.name)

    def start(self) -> None:
        """Start every device; one that cannot start is logged and shows in its health,
        the others go on (a shop sells without its scanner)."""
        for name, device in self:
            try:
                device.start()
            except Exception as exc:  # a device's own failure, of its own kind
                log.error("%s did not start: %s", name, exc)

    def close(self) -> None:
        """Stop and release every device, the input devices first."""
        for name, device in sorted(self, key=lambda item: item[0] not in ("scanner", "keypad")):
            try:
                device.close()
            except Exception as exc:
                log.warning("%s did not close cleanly: %s", name, exc)

    def health(self) -> list[str]:
        """Every device's health events; a device whose check fails is offline."""
        events: list[str] = []
        for name, device in self:
            try:
                events += device.health()
            except Exception as exc:  # a health check must never stop a sale
                log.warning("%s health check failed: %s", name, exc)
                events.append(f"{name}-offline")
        return events


def make_devices(
    hardware: HardwareSettings, data_dir: Path, *, currency: str, records: PaymentRecords
) -> Devices:
    """Each device from its backend's table (nothing is opened until started or used)."""
    env = DeviceEnv(data_dir, currency=currency, records=records)
    printer = build(hardware.printer, printers.BACKENDS, env)
    return Devices(
        printer=printer,
        drawer=build(hardware.drawer, drawers.BACKENDS, DeviceEnv(data_dir, printer=printer)),
        scanner=build(hardware.scanner, scanners.BACKENDS, env),  # type: ignore[arg-type]
        keypad=build(hardware.keypad, keypads.BACKENDS, env),  # type: ignore[arg-type]
        card=build(hardware.card, cards.BACKENDS, env),  # type: ignore[arg-type]
        display=build(hardware.display, displays.BACKENDS, env),  # type: ignore[arg-type]
    )
