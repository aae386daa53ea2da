"""Printer backends: python-escpos connections, and the simulator."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from pathlib import Path
from typing import Any

from escpos import printer as conn
from escpos.printer import Dummy

from hal.printer.document import Document
from hal.printer.escpos_render import profile_columns, render_escpos
from hal.printer.interface import PrinterError
from hal.printer.preview import interpret, render_png
from hal.printer.raster_text import python_codec
from hal.printer.status import read_status


class EscposPrinter:
    """A real printer behind one of python-escpos's connections (Usb, Serial, Network, File)."""

    def __init__(self, connection: Any, *, profile: str, codepage: str) -> None:
        self.connection = connection
        # jobs (UI thread) and status polls (the health thread) share one connection
        self.lock = threading.RLock()
        self.profile = profile
        self.codepage = codepage
        self.columns = profile_columns(profile)

    def render(self, doc: Document) -> bytes:
        return render_escpos(doc, profile=self.profile, codepage=self.codepage)

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


class SimulatorPrinter:
    """Writes each job's ESC/POS stream to ``<dir>/<job>.escpos`` and a readable ``.png``.

    ``paper_out = True`` makes it refuse jobs the way a printer without paper does.
    """

    def __init__(self, out_dir: Path, *, profile: str, codepage: str, preview: bool = True) -> None:
        self.out_dir = Path(out_dir)
        self.profile = profile
        self.codepage = codepage
        self.preview = preview
        self.columns = profile_columns(profile)
        self.paper_out = False
        self.jobs: list[tuple[str, bytes]] = []
        self.raw: list[bytes] = []

    def render(self, doc: Document) -> bytes:
        return render_escpos(doc, profile=self.profile, codepage=self.codepage)

    def print_document(self, doc: Document, *, job_name: str = "") -> bytes:
        return self.print_bytes(self.render(doc), job_name=job_name)

    def print_bytes(self, data: bytes, *, job_name: str = "") -> bytes:
        if self.paper_out:
            raise PrinterError("paper out")
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
        return ["paper-out"] if self.paper_out else []

    def send_raw(self, data: bytes) -> None:
        if self.paper_out and not data.startswith(b"\x1bp"):  # a kick needs no paper
            raise PrinterError("paper out")
        self.raw.append(data)


_REQUIRED = {
    "simulator": (),
    "dummy": (),
    "file": ("path",),
    "usb": ("vendor_id", "product_id"),
    "serial": ("device",),
    "network": ("host",),
}


def check_printer_config(cfg: dict[str, Any]) -> None:
    """Refuse, with the key named, what :func:`make_printer` could only fail on later."""
    backend = cfg.get("backend", "simulator")
    if backend not in _REQUIRED:
        raise ValueError(f"backend: unknown {backend!r}; use {', '.join(_REQUIRED)}")
    for key in _REQUIRED[backend]:
        if key not in cfg:
            raise ValueError(f"{key}: needed by the {backend} backend")
    profile = cfg.get("profile", "TM-T20II")
    try:
        pages = Dummy(profile=profile).profile.profile_data["codePages"].values()
    except KeyError:
        raise ValueError(f"profile: python-escpos has no printer profile {profile!r}") from None
    codepage = cfg.get("codepage", "CP437")
    try:
        python_codec(codepage)
    except LookupError:
        raise ValueError(
            f"codepage: {codepage!r} cannot be encoded here; use CP437, CP850, "
            "CP858, CP866 or CP1252"
        ) from None
    if codepage not in pages:
        raise ValueError(
            f"codepage: {codepage!r} is not one of {profile}'s: {', '.join(sorted(pages))}"
        )
    logo = cfg.get("logo", "")
    if logo and not Path(logo).is_file():
        raise ValueError(f"logo: no such file {logo!r}")


def make_printer(cfg: dict[str, Any], data_dir: Path) -> EscposPrinter | SimulatorPrinter:
    """The printer named by ``[hardware.printer] backend``."""
    backend = cfg.get("backend", "simulator")
    profile = cfg.get("profile", "TM-T20II")
    codepage = cfg.get("codepage", "CP437")
    if backend == "simulator":
        return SimulatorPrinter(data_dir / "receipts", profile=profile, codepage=codepage)
    if backend == "file":
        connection = conn.File(cfg["path"])
    elif backend == "dummy":
        connection = conn.Dummy()
    elif backend == "usb":
        # vendor:product, and the serial number when two of one model are plugged in;
        # a fresh dict each time (python-escpos's default one is shared)
        usb_args = {"serial_number": str(cfg["serial"])} if cfg.get("serial") else {}
        connection = conn.Usb(int(cfg["vendor_id"]), int(cfg["product_id"]), usb_args=usb_args)
    elif backend == "serial":
        connection = conn.Serial(cfg["device"], baudrate=int(cfg.get("baudrate", 38400)))
    elif backend == "network":
        # not python-escpos's 60 s: an unanswered printer must not hold a job that long
        connection = conn.Network(cfg["host"], port=int(cfg.get("port", 9100)), timeout=5)
    else:
        raise ValueError(
            f"hardware.printer.backend: unknown {backend!r}; "
            "use simulator, file, dummy, usb, serial or network"
        )
    return EscposPrinter(connection, profile=profile, codepage=codepage)
