"""Cash drawers: a solenoid pulse on a GPIO pin (gpiozero), or the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from hal.gpio import PIN_FACTORIES, pin_factory


class CashDrawer(Protocol):
    def open(self) -> None:
        """Fire one opening pulse."""
        ...


class SimulatorDrawer:
    """Records every opening pulse (in memory and in ``drawer.log``) instead of firing one."""

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


class GpioDrawer:
    """A drawer solenoid driven through a transistor on a GPIO pin."""

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


class PrinterKickDrawer:
    """A drawer wired to the receipt printer's kick connector: ``ESC p m t1 t2``."""

    def __init__(self, printer, pin: int = 0, pulse_ms: int = 100) -> None:
        self.printer = printer
        on = max(1, min(255, pulse_ms // 2))  # t1, t2 count in 2 ms units
        self.command = bytes([0x1B, 0x70, pin, on, min(255, on * 2)])

    def open(self) -> None:
        self.printer.send_raw(self.command)


def check_drawer_config(cfg: dict[str, Any]) -> None:
    backend = cfg.get("backend", "simulator")
    if backend not in ("simulator", "gpio", "printer"):
        raise ValueError(f"backend: unknown {backend!r}; use simulator, gpio or printer")
    if not 10 <= int(cfg.get("pulse_ms", 100)) <= 1000:
        raise ValueError("pulse_ms: a solenoid pulse is 10 to 1000 ms")
    if cfg.get("pin_factory", "lgpio") not in PIN_FACTORIES:
        raise ValueError("pin_factory: use lgpio, rpigpio or mock")
    for key in ("pin", "sensor_pin"):
        if (key in cfg or key == "pin") and not 0 <= int(cfg.get(key, 17)) <= 27:
            raise ValueError(f"{key}: a Raspberry Pi BCM pin is 0 to 27")
    if not 5 <= float(cfg.get("open_limit_seconds", 60)) <= 3600:
        raise ValueError("open_limit_seconds: 5 to 3600")


def make_drawer(cfg: dict[str, Any], data_dir: Path, printer=None) -> CashDrawer:
    backend = cfg.get("backend", "simulator")
    pulse_ms = int(cfg.get("pulse_ms", 100))
    if backend == "printer":
        if printer is None:
            raise ValueError("hardware.drawer.backend = printer needs the receipt printer")
        return PrinterKickDrawer(printer, int(cfg.get("kick_pin", 0)), pulse_ms)
    if backend == "simulator":
        return SimulatorDrawer(data_dir / "sim" / "drawer.log", pulse_ms)
    if backend == "gpio":
        try:
            factory = pin_factory(cfg.get("pin_factory", "lgpio"))
        except ValueError as exc:
            raise ValueError(f"hardware.drawer.{exc}") from None
        sensor = cfg.get("sensor_pin")
        return GpioDrawer(
            int(cfg.get("pin", 17)),
            active_high=bool(cfg.get("active_high", True)),
            pulse_ms=pulse_ms,
            pin_factory=factory,
            sensor_pin=None if sensor is None else int(sensor),
            sensor_open_high=bool(cfg.get("sensor_open_high", True)),
        )
    raise ValueError(f"hardware.drawer.backend: unknown {backend!r}; use simulator or gpio")
