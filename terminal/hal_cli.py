"""``pos-hal``: the technician's tool for the terminal's devices.

    pos-hal [--config FILE] list                    what is configured, what is found
    pos-hal [--config FILE] print-test              a status ticket on the receipt printer
    pos-hal [--config FILE] drawer                  one opening pulse
    pos-hal [--config FILE] scan [--count N]        show codes as the scanner delivers them
    pos-hal [--config FILE] keypad [--count N]      show keys as the keypad delivers them
                                                    (digits masked: a PIN never shows)
    pos-hal [--config FILE] card status|diagnose|end-of-day
    pos-hal [--config FILE] printer-sim normal|paper-near-end|paper-out|cover-open
                                                    the simulator printer's condition, set
                                                    from outside the running terminal

Errors name the fix: a missing device says where it was looked for; a permission problem
names the group and the udev rule (systemd/99-pos-terminal.rules) that grant access.
"""

from __future__ import annotations

import argparse
import errno
import glob
import platform
import queue
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from hal.card import make_card_terminal
from hal.card.zvt.client import Refused
from hal.card.zvt.transport import LinkError
from hal.drawer import make_drawer
from hal.keypad import make_keypad
from hal.printer.backends import SIMULATED_CONDITIONS, make_printer, write_simulated_condition
from hal.printer.document import Document
from hal.printer.interface import PrinterError
from hal.scanner import make_scanner
from terminal.config import Settings, load_settings
from terminal.core.errors import ConfigError
from terminal.i18n import translator
from terminal.services.key_protection import key_protection_warning

UDEV_RULE = "systemd/99-pos-terminal.rules"


def device_problem(exc: OSError, what: str, path: str = "") -> str:
    """A technician's sentence for a device that could not be opened."""
    where = f" ({path})" if path else ""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{what}{where}: permission denied. Add the service user to the group that "
            f"owns the device (dialout for serial lines, lp for printers) or install "
            f"{UDEV_RULE} into /etc/udev/rules.d/ and replug the device."
        )
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return (
            f"{what}{where}: not found. Check the cable and power; serial devices are "
            f"listed under /dev/serial/by-id/, USB printers under /dev/usb/."
        )
    return f"{what}{where}: {exc.strerror or exc}"


def cmd_list(settings: Settings) -> int:
    hw = settings.hardware
    print("configured:")
    for kind in ("printer", "drawer", "scanner", "keypad", "card"):
        config = getattr(hw, kind)
        detail = {
            k: v for k, v in msgspec.structs.asdict(config.settings).items() if k != "password"
        }
        print(f"  {kind:<8} {config.backend:<11} {detail or ''}")
    print("found:")
    found = sorted(glob.glob("/dev/serial/by-id/*")) + sorted(glob.glob("/dev/usb/lp*"))
    for path in found:
        print(f"  {path}")
    if not found:
        print("  no serial or USB printer devices (simulators need none)")
    printer = make_printer(hw.printer, settings.data_dir)
    events = printer.health()
    print("state:")
    print(f"  printer  {', '.join(events) if events else 'ok'}")
    print("security:")
    print(f"  keys     protected by '{settings.security.protector}' ({settings.environment})")
    warning = key_protection_warning(settings)
    if warning:
        print(f"  WARNING  {translator(settings.store.locale).gettext(warning)}")
    return 0


def cmd_print_test(settings: Settings) -> int:
    printer = make_printer(settings.hardware.printer, settings.data_dir)
    store = settings.store
    doc = Document(columns=printer.columns)
    doc.line("POS TERMINAL STATUS", align="center", bold=True, size="tall")
    doc.rule()
    doc.pair("Terminal", settings.terminal_id)
    doc.pair("Store", store.name)
    doc.pair("Printed", datetime.now(UTC).astimezone(store.timezone).strftime("%d-%m-%Y %H:%M"))
    doc.pair("Host", platform.node())
    for kind in ("printer", "drawer", "scanner", "keypad", "card"):
        doc.pair(kind, getattr(settings.hardware, kind).backend)
    doc.rule()
    doc.line("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    doc.line("Wide", size="wide")
    doc.barcode("RTEST0000001")
    doc.qr(f"pos-terminal {settings.terminal_id}")
    try:
        printer.print_document(doc, job_name="print-test")
    except PrinterError as exc:
        print(f"printer: {exc}", file=sys.stderr)
        return 1
    print(f"test ticket sent to the {settings.hardware.printer.backend} printer")
    return 0


def cmd_drawer(settings: Settings) -> int:
    with make_drawer(settings.hardware.drawer, settings.data_dir) as drawer:
        drawer.open()
    print("drawer: one opening pulse sent")
    return 0


def cmd_scan(settings: Settings, count: int, timeout: float) -> int:
    scanner = make_scanner(settings.hardware.scanner, settings.data_dir)
    codes: queue.Queue[str] = queue.Queue()
    scanner.listen(codes.put)
    scanner.start()
    if settings.hardware.scanner.backend == "wedge":
        print("a keyboard-wedge scanner types into the focused window: scan into this terminal")
        for _ in range(count):
            print(f"scanned: {input().strip()}")
        return 0
    return show_arrivals(codes, scanner, "scan", "scanned", str, count, timeout)


def show_arrivals(arrived, device, what: str, label: str, shown, count: int, timeout: float):
    """Print ``count`` things a started device delivers into ``arrived``, then stop it."""
    print(f"waiting for {count} {what}(s), {timeout:.0f} s at most ...")
    try:
        for _ in range(count):
            try:
                print(f"{label}: {shown(arrived.get(timeout=timeout))}")
            except queue.Empty:
                print(f"no {what} arrived", file=sys.stderr)
                return 1
    finally:
        device.close()
    return 0


def masked(key: str) -> str:
    """A keypad key as the tester shows it: digits as a dot, so a PIN typed while testing
    is never on the screen; other keys by name."""
    return "\u2022 (a digit)" if key.isdigit() else key


def cmd_keypad(settings: Settings, count: int, timeout: float) -> int:
    keypad = make_keypad(settings.hardware.keypad, settings.data_dir)
    if settings.hardware.keypad.backend == "keyboard":
        print("a keyboard keypad types into the focused window: press keys here, then Enter")
        typed = input()
        print("keys: " + " ".join(masked(ch) for ch in typed) + " enter")
        return 0
    keys: queue.Queue[str] = queue.Queue()
    keypad.listen(keys.put)
    keypad.start()
    return show_arrivals(keys, keypad, "key", "key", masked, count, timeout)


def cmd_card(settings: Settings, action: str) -> int:
    desk = make_card_terminal(
        settings.hardware.card, settings.data_dir, currency=settings.store.currency.code
    )
    try:
        client = desk.client
    except LinkError as exc:
        print(
            f"pos-hal: {exc}. Check the cable and power; serial devices are listed under "
            "/dev/serial/by-id/.",
            file=sys.stderr,
        )
        return 3
    try:
        if action == "status":
            outcome = client.status_enquiry()
            state = "ready" if outcome.terminal_status == 0 else f"status {outcome.terminal_status}"
            print(f"card terminal: {state}; software {outcome.software or '?'}")
        elif action == "diagnose":
            registered = client.register()
            outcome = client.status_enquiry()
            print(
                f"registration: {'ok' if registered.completed else registered.message}; "
                f"terminal id {registered.terminal_id or '?'}; "
                f"status {outcome.terminal_status}; software {outcome.software or '?'}"
            )
        else:
            outcome = client.end_of_day()
            print(f"end of day: {'done' if outcome.completed else outcome.message}")
            for line in outcome.receipt_lines:
                print(f"  {line}")
    except (LinkError, Refused) as exc:
        print(f"card terminal: {exc}", file=sys.stderr)
        return 1
    finally:
        desk.close()
    return 0


def cmd_printer_sim(settings: Settings, condition: str) -> int:
    """Paper near its end, out, the cover open, or back to normal, for the simulator
    printer of a running terminal (``make run``): its next job and health check see it."""
    state_file = settings.data_dir / "sim" / "printer"
    write_simulated_condition(state_file, condition)
    print(f"simulator printer: {condition} ({state_file})")
    backend = settings.hardware.printer.backend
    if backend != "simulator":
        print(
            f"note: this configuration's printer is {backend!r}, not the simulator: "
            "only a simulator printer reads this",
            file=sys.stderr,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pos-hal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=Path("config/pos.toml"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list")
    commands.add_parser("print-test")
    commands.add_parser("drawer")
    scan = commands.add_parser("scan")
    scan.add_argument("--count", type=int, default=1)
    scan.add_argument("--timeout", type=float, default=60.0)
    keypad = commands.add_parser("keypad")
    keypad.add_argument("--count", type=int, default=4)
    keypad.add_argument("--timeout", type=float, default=60.0)
    commands.add_parser("card").add_argument("action", choices=["status", "diagnose", "end-of-day"])
    commands.add_parser("printer-sim").add_argument("condition", choices=SIMULATED_CONDITIONS)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"pos-hal: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            return cmd_list(settings)
        if args.command == "print-test":
            return cmd_print_test(settings)
        if args.command == "drawer":
            return cmd_drawer(settings)
        if args.command == "scan":
            return cmd_scan(settings, args.count, args.timeout)
        if args.command == "keypad":
            return cmd_keypad(settings, args.count, args.timeout)
        if args.command == "printer-sim":
            return cmd_printer_sim(settings, args.condition)
        return cmd_card(settings, args.action)
    except OSError as exc:
        print(f"pos-hal: {device_problem(exc, args.command, exc.filename or '')}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
