"""Cash drawers: a solenoid pulse on a GPIO pin (gpiozero), or the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import msgspec

from hal.device import (
    Backend,
    BackendSettings,
    Device,
    DeviceConfig,
    DeviceEnv,
    build,
    configure,
)
from hal.gpio import PIN_FACTORIES, pin_factory

BcmPin = Annotated[int, msgspec.Meta(ge=0, le=27)]  # a Raspberry Pi BCM pin


class CashDrawer(Protocol):
    def open(self) -> None:
        """Fire one opening pulse."""
        ...


class SimulatorDrawer(Device):
    """Records every opening pulse (in memory and in ``drawer.log``) instead of firing one."""

    kind = "drawer"

    def __init__(self, log_path: Path | None = None, pulse_ms: int = 100) -> None:
        self.log_path = log_path
        self.pulse_ms = pulse_ms
        self.pulses: list[datetime] = []

    def open(self) -> None:
        now = datetime.now(UTC)
        self.pulses.append(now)
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a") as log:
                log.write(f"{now.isoformat()} pulse {self.pulse_ms} ms\n")


class GpioDrawer(Device):
    """A drawer solenoid driven through a transistor on a GPIO pin."""

    kind = "drawer"

    def __init__(
        self,
        pin: int,
        *,
        active_high: bool = True,
        pulse_ms: int = 100,
        pin_factory: Any = None,
        sensor_pin: int | None = None,
        sensor_open_high: bool = True,
    ) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice  # noqa: PLC0415

        self.pulse_ms = pulse_ms
        self.output = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        # the drawer's open switch, if wired: raw reads; debounced by DrawerMonitor
        self.sensor = (
            DigitalInputDevice(sensor_pin, pull_up=not sensor_open_high, pin_factory=pin_factory)
            if sensor_pin is not None
            else None
        )

    def read_open(self) -> bool | None:
        """The sensor's raw reading (True: open), or None without a sensor."""
        if self.sensor is None:
            return None
        return bool(self.sensor.is_active)  # (gpiozero accounts for the pull-up)

    def open(self) -> None:
        # one pulse, in gpiozero's background thread so the UI does not wait for it
        self.output.blink(on_time=self.pulse_ms / 1000, off_time=0, n=1, background=True)

    def close(self) -> None:
        self.output.close()
        if self.sensor is not None:
            self.sensor.close()
        super().close()


class PrinterKickDrawer(Device):
    """A drawer wired to the receipt printer's kick connector: ``ESC p m t1 t2``."""

    kind = "drawer"

    def __init__(self, printer, pin: int = 0, pulse_ms: int = 100) -> None:
        self.printer = printer
        on = max(1, min(255, pulse_ms // 2))  # t1, t2 count in 2 ms units
        self.command = bytes([0x1B, 0x70, pin, on, min(255, on * 2)])

    def open(self) -> None:
        self.printer.send_raw(self.command)


class DrawerSettings(BackendSettings, kw_only=True):
    pulse_ms: Annotated[int, msgspec.Meta(ge=10, le=1000)] = 100  # a solenoid pulse
    open_limit_seconds: Annotated[float, msgspec.Meta(ge=5, le=3600)] = 60


class GpioDrawerSettings(DrawerSettings, kw_only=True):
    pin: BcmPin = 17
    active_high: bool = True
    pin_factory: str = "lgpio"
    sensor_pin: BcmPin | None = None  # the drawer's open switch, if wired
    sensor_open_high: bool = True

    def __post_init__(self) -> None:
        if self.pin_factory not in PIN_FACTORIES:
            raise ValueError(f"pin_factory: use {', '.join(PIN_FACTORIES)}")


class KickDrawerSettings(DrawerSettings, kw_only=True):
    kick_pin: Annotated[int, msgspec.Meta(ge=0, le=1)] = 0  # connector pin 2 (0) or 5 (1)


def _printer_kick(s: KickDrawerSettings, env: DeviceEnv) -> PrinterKickDrawer:
    if env.printer is None:
        raise ValueError("hardware.drawer.backend = printer needs the receipt printer")
    return PrinterKickDrawer(env.printer, s.kick_pin, s.pulse_ms)


def _gpio(s: GpioDrawerSettings, _env: DeviceEnv) -> GpioDrawer:
    return GpioDrawer(
        s.pin,
        active_high=s.active_high,
        pulse_ms=s.pulse_ms,
        pin_factory=pin_factory(s.pin_factory),
        sensor_pin=s.sensor_pin,
        sensor_open_high=s.sensor_open_high,
    )


BACKENDS: dict[str, Backend] = {
    "simulator": Backend(
        DrawerSettings,
        lambda s, env: SimulatorDrawer(env.data_dir / "sim" / "drawer.log", s.pulse_ms),
    ),
    "gpio": Backend(GpioDrawerSettings, _gpio),
    "printer": Backend(KickDrawerSettings, _printer_kick),
}


def configure_drawer(table: dict[str, Any]) -> DeviceConfig:
    return configure("drawer", table, BACKENDS, "simulator")


def make_drawer(cfg: dict[str, Any] | DeviceConfig, data_dir: Path, printer=None) -> CashDrawer:
    config = cfg if isinstance(cfg, DeviceConfig) else configure_drawer(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir, printer=printer))  # type: ignore[return-value]
