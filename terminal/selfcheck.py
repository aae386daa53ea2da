"""``pos-terminal selfcheck``: is this installation able to run the terminal?

One line per check, ``ok`` or ``FAILED`` with the reason, and an exit status of 0 only
when every check passed. Made for the image build (run inside the built root file
system, so a missing library shows before a card is flashed) and for a technician at a
terminal that will not start. Nothing here opens a window or touches the display: a
running terminal keeps its screen. Run it with the terminal stopped when real devices
are configured (a serial line is opened by one program at a time).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from terminal.core.errors import ConfigError

if TYPE_CHECKING:  # the configuration module imports hal, hence escpos and serial: a
    # package missing from the installation must be a FAILED line, not a traceback
    from terminal.config import Settings

# What the app imports at its start, by the name a missing package is known by.
# Kivy's graphics module links the system's libGL: importing it proves the image's GL
# libraries are there without opening a window; cgl_sdl2 loads the SDL2 Kivy bundles.
IMPORTS = (
    "kivy",
    "kivy.graphics",
    "kivy.graphics.cgl_backend.cgl_sdl2",
    "sqlcipher3",
    "escpos",
    "serial",
    "gpiozero",
    "paho.mqtt.client",
    "cryptography",
    "tpm2_pytss",  # the tpm2 key protector; it links the TSS libraries
)
# health events that mean a device cannot be used at all
UNUSABLE = ("-offline", "-missing", "-error")


@dataclass(frozen=True)
class Result:
    """One check's outcome, as printed."""

    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        status = "ok    " if self.ok else "FAILED"
        return f"{status} {self.name}" + (f": {self.detail}" if self.detail else "")


def _run(name: str, check: Callable[[], str]) -> Result:
    """A check returns a detail to show, or raises: any exception is the failure's
    reason (a selfcheck reports, it never stops at the first problem)."""
    try:
        return Result(name, True, check())
    except Exception as exc:
        return Result(name, False, f"{type(exc).__name__}: {exc}")


def _kivy_environment(data_dir: Path | None) -> None:
    """Kivy reads its environment at import: no command line of its own, no log file,
    its configuration under the data directory (not ~/.kivy, read-only on the image)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    if data_dir is not None and "KIVY_HOME" not in os.environ:
        home = data_dir / "kivy"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = str(home)


def check_imports(data_dir: Path | None) -> list[Result]:
    _kivy_environment(data_dir)

    def importer(module: str) -> Callable[[], str]:
        return lambda: getattr(importlib.import_module(module), "__version__", "") or ""

    return [_run(f"import {module}", importer(module)) for module in IMPORTS]


def check_database(settings: Settings) -> Result:
    """The key store opens (made with the configured protector on a fresh data
    directory) and its key opens the encrypted database; read-only otherwise: the key
    store's memory of the database is not touched, so a running terminal is unaffected."""
    from terminal.core.clock import system_clock  # noqa: PLC0415 - after the imports
    from terminal.services.bootstrap import open_store  # noqa: PLC0415

    def opened() -> str:
        _keys, db, _journal = open_store(settings, system_clock, check=False, full_check=False)
        try:
            tables = len(db.get_tables())
        finally:
            db.close()
        return (
            f"{settings.database_path} ({tables} tables, protector {settings.security.protector})"
        )

    return _run("database opens", opened)


def check_devices(settings: Settings) -> list[Result]:
    """Each configured device is made, started, asked for its health and closed, as
    ``pos-hal`` does; one that reports itself offline fails."""
    from hal.card.payments import MemoryRecords  # noqa: PLC0415 - after the imports
    from terminal.hal_cli import device_problem  # noqa: PLC0415
    from terminal.services.devices import make_devices  # noqa: PLC0415

    try:
        devices = make_devices(
            settings.hardware,
            settings.data_dir,
            currency=settings.store.currency.code,
            records=MemoryRecords(),  # (no payment is made)
        )
    except Exception as exc:
        return [Result("devices configured", False, f"{type(exc).__name__}: {exc}")]
    results = []
    for name, device in devices:
        backend = getattr(settings.hardware, name).backend

        def opened(device=device, name=name) -> str:
            try:
                device.start()
                getattr(device, "client", None)  # the card terminal's link opens when asked
                events = device.health()
            except OSError as exc:
                raise OSError(device_problem(exc, name, exc.filename or "")) from None
            finally:
                device.close()
            if any(event.endswith(UNUSABLE) for event in events):
                raise RuntimeError(", ".join(events))
            return ", ".join(events)  # paper near its end, a drawer left open: said, not failed

        results.append(_run(f"device {name} ({backend})", opened))
    return results


def selfcheck(config: Path, out: TextIO, store: Path | None = None) -> int:
    """Every check, one line each; 0 only when all passed. ``store``: a store file over
    the configuration (``--store``)."""
    results: list[Result] = []
    settings: Settings | None = None
    try:
        from terminal.config import load_settings  # noqa: PLC0415 - see TYPE_CHECKING

        settings = load_settings(config, store)
        results.append(
            Result("configuration loads", True, f"{config} + {store}" if store else str(config))
        )
    except (ConfigError, ImportError) as exc:
        results.append(Result("configuration loads", False, str(exc)))
    results += check_imports(settings.data_dir if settings else None)
    if settings is None:
        results.append(Result("database opens", False, "no configuration"))
        results.append(Result("devices open", False, "no configuration"))
    else:
        results.append(check_database(settings))
        results += check_devices(settings)
    for result in results:
        print(result.line(), file=out, flush=True)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"selfcheck: {len(failed)} of {len(results)} checks FAILED", file=out)
        return 1
    print(f"selfcheck: all {len(results)} checks ok", file=out)
    return 0


if __name__ == "__main__":  # python -m terminal.selfcheck [CONFIG]: without the CLI's imports
    import sys

    raise SystemExit(
        selfcheck(Path(sys.argv[1] if len(sys.argv) > 1 else "config/pos.toml"), sys.stdout)
    )
