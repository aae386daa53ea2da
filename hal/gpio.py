"""gpiozero pin factories by name: ``lgpio`` (Pi 3/4/5, the default), ``rpigpio``
(RPi.GPIO), ``mock`` (tests and development machines)."""

from __future__ import annotations

from typing import Any

PIN_FACTORIES = ("lgpio", "rpigpio", "mock")


def pin_factory(name: str) -> Any:
    if name == "mock":
        from gpiozero.pins.mock import MockFactory  # noqa: PLC0415 - only when asked for

        return MockFactory()
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory  # noqa: PLC0415 - Pi-only

        return LGPIOFactory()
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory  # noqa: PLC0415 - Pi-only

        return RPiGPIOFactory()
    raise ValueError(f"pin_factory: unknown {name!r}; use {', '.join(PIN_FACTORIES)}")
