"""Printer backends: python-escpos connections, and the simulator."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from pathlib import Path
from typing import Any

from escpos import printer as conn
from escpos.printer import Dummy

from hal.device import (
    Backend,
    BackendSettings,
    Device,
    DeviceConfig,
    DeviceEnv,
    build,
    configure,
)
from hal.printer.document import Document
from hal.printer.escpos_render import profile_columns, render_escpos
from hal.printer.interface import PrinterError
from hal.printer.preview import interpret, render_png
from hal.printer.raster_text import python_codec
from hal.printer.status import read_status

log = logging.getLogger(__name__)


class EscposPrinter(Device):
    """A real printer behind one of python-escpos's connections (Usb, Serial, Network, File).

    Opened for each job and closed after it (so an unplugged printer is found again), so
    starting opens nothing; closing releases the connection."""

    kind = "printer"

    def __init__(
        self,
        connection: Any,
        *,
        profile: str,
        codepage: str,
        cyrillic: str = "native",
        chinese: str = "raster",
    ) -> None:
        self.connection = connection
        # jobs (UI thread) and status polls (the health thread) share one connection
        self.lock = threading.RLock()
        self.profile = profile
        self.codepage = codepage
        self.scripts = {"cyrillic": cyrillic, "chinese": chinese}
        self.columns = profile_columns(profile)

    def render(self, doc: Document) -> bytes:
        return render_escpos(doc, profile=self.profile, codepage=self.codepage, **self.scripts)

    def print_document(self, doc: Document, *, job_name: str = "") -> bytes:
        return self.print_bytes(self.render(doc), job_name=job_name)

    def print_bytes(self, data: bytes, *, job_name: str = "") -> bytes:
        with self.lock:
            try:
                self.connection._raw(data)
            except Exception as exc:  # every connection raises its own kind
                raise PrinterError(f"printer did not take the job: {exc}") from exc
            finally:
                self._release()
        return data

    def _release(self) -> None:
        """Close after each job, and forget a failed open: python-escpos opens again only
        from the 'never opened' state, so a printer unplugged and plugged back would
        otherwise stay lost until the app restarts."""
        with contextlib.suppress(Exception):  # closing a dead connection may fail too
            self.connection.close()
        if getattr(self.connection, "_device", False) is None:
            self.connection._device = False

    def close(self) -> None:
        with self.lock:
            self._release()
        super().close()

    def health(self) -> list[str]:
        """Health events; read with DLE EOT where the connection is a serial line."""
        if not isinstance(self.connection, conn.Serial | conn.Network):
            return []  # USB status reading: not yet (pyusb is a Pi-only extra)
        with self.lock:
            try:
                port = self.connection.device
                if port is None:
                    raise OSError("not connected")
                if isinstance(self.connection, conn.Network):
                    port = SocketPort(port)
                return read_status(port).events()
            except Exception:  # unplugged, or answering garbage: looked for again next time
                self._release()
                return ["printer-offline"]

    def send_raw(self, data: bytes) -> None:
        """Bytes outside a job (the drawer kick)."""
        with self.lock:
            try:
                self.connection._raw(data)
            except Exception as exc:
                self._release()
                raise PrinterError(f"printer did not take the command: {exc}") from exc


class SocketPort:
    """A network printer's socket (port 9100) with the serial port's read, write and
    reset_input_buffer, for the DLE EOT status reader: most network printers answer
    status requests on the same connection."""

    def __init__(self, sock: socket.socket, timeout: float = 0.2) -> None:
        self.sock, self.timeout, self.pending = sock, timeout, b""

    def reset_input_buffer(self) -> None:
        self.pending = b""
        self.sock.setblocking(False)
        try:
            while self.sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            self.sock.settimeout(self.timeout)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, size: int = 1) -> bytes:
        if not self.pending:
            try:
                self.pending = self.sock.recv(16)
            except TimeoutError:
                return b""
            if not self.pending:
                raise OSError("the printer closed the connection")
        data, self.pending = self.pending[:size], self.pending[size:]
        return data


SIMULATED_CONDITIONS = ("normal", "paper-near-end", "paper-out", "cover-open")


def write_simulated_condition(state_file: Path, condition: str) -> None:
    """Set a simulator printer's condition from outside its process (``pos-hal
    printer-sim``): one word in ``state_file``, written whole (renamed into place)."""
    if condition not in SIMULATED_CONDITIONS:
        known = ", ".join(SIMULATED_CONDITIONS)
        raise ValueError(f"unknown printer condition {condition!r}; known: {known}")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    partial = state_file.with_name(f".{state_file.name}.part")
    partial.write_text(condition + "\n", encoding="ascii")
    partial.replace(state_file)


class SimulatorPrinter(Device):
    """Writes each job's ESC/POS stream to ``<dir>/<job>.escpos`` and a readable ``.png``.

    Its condition - ``normal``, ``paper-near-end`` (prints, and says so), ``paper-out``
    and ``cover-open`` (refuse jobs as a real printer does) - is set in the program
    (``paper_out = True``, ``condition = ...``) or, for technicians and demos, from
    outside: the word in ``state_file`` (``<data>/sim/printer``, written by ``pos-hal
    printer-sim``) wins while that file exists.
    """

    kind = "printer"

    def __init__(
        self,
        out_dir: Path,
        *,
        profile: str,
        codepage: str,
        preview: bool = True,
        state_file: Path | None = None,
        cyrillic: str = "native",
        chinese: str = "raster",
    ) -> None:
        self.out_dir = Path(out_dir)
        self.profile = profile
        self.codepage = codepage
        self.scripts = {"cyrillic": cyrillic, "chinese": chinese}
        self.preview = preview
        self.columns = profile_columns(profile)
        self.state_file = state_file
        self._condition = "normal"
        self._unknown_seen = ""
        self.jobs: list[tuple[str, bytes]] = []
        self.raw: list[bytes] = []

    @property
    def condition(self) -> str:
        if self.state_file is not None:
            try:
                word = self.state_file.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                word = ""
            except (OSError, UnicodeDecodeError) as exc:
                word = f"unreadable ({exc.__class__.__name__})"
            if word in SIMULATED_CONDITIONS:
                return word
            if word and word != self._unknown_seen:  # said once, not at every job
                self._unknown_seen = word
                log.warning(
                    "%s: %r is not a printer condition (%s): ignored",
                    self.state_file,
                    word[:40],
                    ", ".join(SIMULATED_CONDITIONS),
                )
        return self._condition

    @condition.setter
    def condition(self, value: str) -> None:
        if value not in SIMULATED_CONDITIONS:
            raise ValueError(f"unknown printer condition {value!r}")
        self._condition = value

    @property
    def paper_out(self) -> bool:
        return self.condition == "paper-out"

    @paper_out.setter
    def paper_out(self, value: bool) -> None:
        self.condition = "paper-out" if value else "normal"

    def _refusal(self) -> str | None:
        condition = self.condition
        return {"paper-out": "paper out", "cover-open": "cover open"}.get(condition)

    def render(self, doc: Document) -> bytes:
        return render_escpos(doc, profile=self.profile, codepage=self.codepage, **self.scripts)

    def print_document(self, doc: Document, *, job_name: str = "") -> bytes:
        return self.print_bytes(self.render(doc), job_name=job_name)

    def print_bytes(self, data: bytes, *, job_name: str = "") -> bytes:
        refusal = self._refusal()
        if refusal:
            raise PrinterError(refusal)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", job_name or f"job-{len(self.jobs) + 1}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # the preview first, then the stream, each renamed into place: whoever sees the
        # .escpos file (a technician's script, a test) finds both complete
        if self.preview:
            partial = self.out_dir / f".{name}.part.png"
            render_png(interpret(data), partial)
            partial.replace(self.out_dir / f"{name}.png")
        partial = self.out_dir / f".{name}.escpos.part"
        partial.write_bytes(data)
        partial.replace(self.out_dir / f"{name}.escpos")
        self.jobs.append((name, data))
        return data

    def health(self) -> list[str]:
        condition = self.condition
        return [] if condition == "normal" else [condition]

    def send_raw(self, data: bytes) -> None:
        refusal = self._refusal()
        if refusal and not data.startswith(b"\x1bp"):  # a drawer kick needs no paper
            raise PrinterError(refusal)
        self.raw.append(data)


class PrinterSettings(BackendSettings, kw_only=True):
    """What every printer backend takes: its python-escpos profile, the codepage chosen at
    the start of every job, and an optional logo (checked here, not at the first
    receipt)."""

    profile: str = "TM-T20II"
    codepage: str = "CP437"
    logo: str = ""
    # scripts the codepage cannot carry: printed in the printer's own character sets
    # where it has them (hal/printer/native_scripts.py), else as raster lines
    cyrillic: str = "native"  # native (a Cyrillic code page of the profile) | raster
    chinese: str = "raster"  # gbk (the Chinese mode of printers made for China) | raster

    def __post_init__(self) -> None:
        if self.cyrillic not in ("native", "raster"):
            raise ValueError(f"cyrillic: native or raster, not {self.cyrillic!r}")
        if self.chinese not in ("gbk", "raster"):
            raise ValueError(f"chinese: gbk or raster, not {self.chinese!r}")
        try:
            pages = Dummy(profile=self.profile).profile.profile_data["codePages"].values()
        except KeyError:
            raise ValueError(
                f"profile: python-escpos has no printer profile {self.profile!r}"
            ) from None
        try:
            python_codec(self.codepage)
        except LookupError:
            raise ValueError(
                f"codepage: {self.codepage!r} cannot be encoded here; use CP437, CP850, "
                "CP858, CP866 or CP1252"
            ) from None
        if self.codepage not in pages:
            raise ValueError(
                f"codepage: {self.codepage!r} is not one of {self.profile}'s: "
                f"{', '.join(sorted(pages))}"
            )
        if self.logo and not Path(self.logo).is_file():
            raise ValueError(f"logo: no such file {self.logo!r}")


class FilePrinterSettings(PrinterSettings, kw_only=True):
    path: str  # e.g. /dev/usb/lp0


class UsbPrinterSettings(PrinterSettings, kw_only=True):
    vendor_id: int
    product_id: int
    serial: str = ""  # the serial number (lsusb -v): tells two printers of one model apart


class SerialPrinterSettings(PrinterSettings, kw_only=True):
    device: str
    baudrate: int = 38400


class NetworkPrinterSettings(PrinterSettings, kw_only=True):
    host: str
    port: int = 9100


def _escpos(connection: Any, s: PrinterSettings) -> EscposPrinter:
    return EscposPrinter(
        connection, profile=s.profile, codepage=s.codepage, cyrillic=s.cyrillic, chinese=s.chinese
    )


def _usb(s: UsbPrinterSettings, _env: DeviceEnv) -> EscposPrinter:
    # a fresh dict each time (python-escpos's default one is shared)
    usb_args = {"serial_number": s.serial} if s.serial else {}
    return _escpos(conn.Usb(s.vendor_id, s.product_id, usb_args=usb_args), s)


BACKENDS: dict[str, Backend] = {
    "simulator": Backend(
        PrinterSettings,
        lambda s, env: SimulatorPrinter(
            env.data_dir / "receipts",
            profile=s.profile,
            codepage=s.codepage,
            state_file=env.data_dir / "sim" / "printer",
            cyrillic=s.cyrillic,
            chinese=s.chinese,
        ),
    ),
    "dummy": Backend(PrinterSettings, lambda s, _env: _escpos(conn.Dummy(), s)),
    "file": Backend(FilePrinterSettings, lambda s, _env: _escpos(conn.File(s.path), s)),
    "usb": Backend(UsbPrinterSettings, _usb),
    "serial": Backend(
        SerialPrinterSettings,
        lambda s, _env: _escpos(conn.Serial(s.device, baudrate=s.baudrate), s),
    ),
    # not python-escpos's 60 s timeout: an unanswered printer must not hold a job that long
    "network": Backend(
        NetworkPrinterSettings,
        lambda s, _env: _escpos(conn.Network(s.host, port=s.port, timeout=5), s),
    ),
}


def configure_printer(table: dict[str, Any]) -> DeviceConfig:
    return configure("printer", table, BACKENDS, "simulator")


def make_printer(
    cfg: dict[str, Any] | DeviceConfig, data_dir: Path
) -> EscposPrinter | SimulatorPrinter:
    """The printer a ``[hardware.printer]`` table (or its checked configuration) names."""
    config = cfg if isinstance(cfg, DeviceConfig) else configure_printer(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir))  # type: ignore[return-value]
