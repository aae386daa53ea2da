"""``pos-hal``: the technician's tool for the terminal's devices.

    pos-hal [--config FILE] list                    what is configured, what is found
    pos-hal [--config FILE] print-test              a status ticket on the receipt printer
    pos-hal [--config FILE] drawer                  one opening pulse
    pos-hal [--config FILE] display-test            two lines on the customer display
    pos-hal [--config FILE] scan [--count N]        show codes as the scanner delivers them
    pos-hal [--config FILE] keypad [--count N]      show keys as the keypad delivers them
                                                    (digits masked: a PIN never shows)
    pos-hal [--config FILE] card status|diagnose|end-of-day
    pos-hal [--config FILE] printer-sim normal|paper-near-end|paper-out|cover-open
                                                    the simulator printer's condition, set
                                                    from outside the running terminal
    pos-hal --lang LANG ...                         in another language than the shop's

Errors name the fix: a missing device says where it was looked for; a permission problem
names the group and the udev rule (systemd/99-pos-terminal.rules) that grant access.
Everything is said in the shop's language (``store.locale``) through the terminal's
gettext catalogues, or in the one ``--lang`` names; device names, backends, paths and
printer conditions stay as the configuration writes them.
"""

from __future__ import annotations

import argparse
import errno
import glob
import platform
import queue
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from hal.card import make_card_terminal
from hal.card.zvt.client import Refused
from hal.card.zvt.transport import LinkError
from hal.display import make_display
from hal.drawer import make_drawer
from hal.keypad import make_keypad
from hal.printer.backends import SIMULATED_CONDITIONS, make_printer, write_simulated_condition
from hal.printer.document import Document
from hal.printer.interface import PrinterError
from hal.scanner import make_scanner
from terminal.config import LOCALES, Settings, load_settings
from terminal.core.errors import ConfigError
from terminal.i18n import _, current_locale, ngettext, set_locale
from terminal.services.key_protection import key_protection_warning

UDEV_RULE = "systemd/99-pos-terminal.rules"
DEFAULT_CONFIG = Path("config/pos.toml")
# config names: never translated
KINDS = ("printer", "drawer", "scanner", "keypad", "card", "display")


def device_problem(exc: OSError, what: str, path: str = "") -> str:
    """A technician's sentence for a device that could not be opened."""
    device = f"{what} ({path})" if path else what
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _(
            "{device}: permission denied. Add the service user to the group that owns the "
            "device (dialout for serial lines, lp for printers) or install {rule} into "
            "/etc/udev/rules.d/ and replug the device."
        ).format(device=device, rule=UDEV_RULE)
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return _(
            "{device}: not found. Check the cable and power; serial devices are listed under "
            "/dev/serial/by-id/, USB printers under /dev/usb/."
        ).format(device=device)
    return f"{device}: {exc.strerror or exc}"


def cmd_list(settings: Settings) -> int:
    hw = settings.hardware
    print(_("configured:"))
    for kind in KINDS:
        config = getattr(hw, kind)
        detail = {
            k: v for k, v in msgspec.structs.asdict(config.settings).items() if k != "password"
        }
        print(f"  {kind:<8} {config.backend:<11} {detail or ''}")
    print(_("found:"))
    found = sorted(glob.glob("/dev/serial/by-id/*")) + sorted(glob.glob("/dev/usb/lp*"))
    for path in found:
        print(f"  {path}")
    if not found:
        print("  " + _("no serial or USB printer devices (simulators need none)"))
    printer = make_printer(hw.printer, settings.data_dir)
    events = printer.health()  # condition names (paper-out, ...): shown as they are
    print(_("state:"))
    print("  printer  " + (", ".join(events) if events else _("ok")))
    print(_("security:"))
    print(
        "  keys     "
        + _("protected by '{protector}' ({environment})").format(
            protector=settings.security.protector, environment=settings.environment
        )
    )
    warning = key_protection_warning(settings)
    if warning:
        print("  " + _("WARNING") + "  " + _(warning))
    return 0


def cmd_print_test(settings: Settings) -> int:
    printer = make_printer(settings.hardware.printer, settings.data_dir)
    store = settings.store
    doc = Document(columns=printer.columns)
    doc.line(_("POS TERMINAL STATUS"), align="center", bold=True, size="tall")
    doc.rule()
    doc.pair(_("Terminal"), settings.terminal_id)
    doc.pair(_("Store"), store.name)
    printed = datetime.now(UTC).astimezone(store.timezone).strftime("%d-%m-%Y %H:%M")
    doc.pair(_("Printed"), printed)
    doc.pair(_("Host"), platform.node())
    for kind in KINDS:
        doc.pair(kind, getattr(settings.hardware, kind).backend)
    doc.rule()
    doc.line("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    doc.line(_("Wide"), size="wide")
    doc.barcode("RTEST0000001")
    doc.qr(f"pos-terminal {settings.terminal_id}")
    try:
        printer.print_document(doc, job_name="print-test")
    except PrinterError as exc:
        print(_("printer: {error}").format(error=exc), file=sys.stderr)
        return 1
    print(
        _("test ticket sent to the {backend} printer").format(
            backend=settings.hardware.printer.backend
        )
    )
    return 0


def cmd_display_test(settings: Settings) -> int:
    """The terminal's id and the time on the customer display, both lines full width
    (a display whose command set or character set is wrong shows garbage: the cure is
    ``command_set`` or ``charset`` in [hardware.display])."""
    config = settings.hardware.display
    display = make_display(config, settings.data_dir)
    if not display.present:
        print(_('no customer display is configured ([hardware.display] backend = "none")'))
        return 1
    now = datetime.now(UTC).astimezone(settings.store.timezone).strftime("%d-%m-%Y %H:%M")
    simulator = getattr(display, "simulator", None)
    try:
        display.start()
        shown = display.show(f"{settings.terminal_id} {settings.store.name}", now)
        if shown and simulator is not None:  # what the simulated display shows, read back
            simulator.wait_for(lambda lines: lines[1].startswith(now))
            for line in simulator.screen.lines:
                print(f"  |{line}|")
    finally:
        display.close()
    if not shown:
        print(
            _("customer display: not reached ({health})").format(
                health=", ".join(display.health())
            ),
            file=sys.stderr,
        )
        return 1
    print(_("two lines sent to the {backend} customer display").format(backend=config.backend))
    return 0


def cmd_drawer(settings: Settings) -> int:
    with make_drawer(settings.hardware.drawer, settings.data_dir) as drawer:
        drawer.open()
    print(_("drawer: one opening pulse sent"))
    return 0


def cmd_scan(settings: Settings, count: int, timeout: float) -> int:
    scanner = make_scanner(settings.hardware.scanner, settings.data_dir)
    codes: queue.Queue[str] = queue.Queue()
    scanner.listen(codes.put)
    scanner.start()
    if settings.hardware.scanner.backend == "wedge":
        print(_("a keyboard-wedge scanner types into the focused window: scan into this terminal"))
        for _n in range(count):
            print(_("scanned: {code}").format(code=input().strip()))
        return 0
    waiting = ngettext(
        "waiting for {count} scan, {seconds} s at most ...",
        "waiting for {count} scans, {seconds} s at most ...",
        count,
    )
    return show_arrivals(
        codes,
        scanner,
        waiting.format(count=count, seconds=f"{timeout:.0f}"),
        _("no scan arrived"),
        lambda code: _("scanned: {code}").format(code=code),
        count,
        timeout,
    )


def show_arrivals(
    arrived: queue.Queue[str],
    device,
    waiting: str,
    nothing: str,
    shown: Callable[[str], str],
    count: int,
    timeout: float,
) -> int:
    """Print ``count`` things a started device delivers into ``arrived``, then stop it:
    ``waiting`` first, each one as ``shown`` says, ``nothing`` when none came in time."""
    print(waiting)
    try:
        for _n in range(count):
            try:
                print(shown(arrived.get(timeout=timeout)))
            except queue.Empty:
                print(nothing, file=sys.stderr)
                return 1
    finally:
        device.close()
    return 0


def masked(key: str) -> str:
    """A keypad key as the tester shows it: digits as a dot, so a PIN typed while testing
    is never on the screen; other keys by name (enter, clear, ...: not translated)."""
    return _("\u2022 (a digit)") if key.isdigit() else key


def cmd_keypad(settings: Settings, count: int, timeout: float) -> int:
    keypad = make_keypad(settings.hardware.keypad, settings.data_dir)
    if settings.hardware.keypad.backend == "keyboard":
        print(_("a keyboard keypad types into the focused window: press keys here, then Enter"))
        typed = input()
        keys = " ".join([*(masked(ch) for ch in typed), "enter"])
        print(_("keys: {keys}").format(keys=keys))
        return 0
    arrived: queue.Queue[str] = queue.Queue()
    keypad.listen(arrived.put)
    keypad.start()
    waiting = ngettext(
        "waiting for {count} key, {seconds} s at most ...",
        "waiting for {count} keys, {seconds} s at most ...",
        count,
    )
    return show_arrivals(
        arrived,
        keypad,
        waiting.format(count=count, seconds=f"{timeout:.0f}"),
        _("no key arrived"),
        lambda key: _("key: {key}").format(key=masked(key)),
        count,
        timeout,
    )


def cmd_card(settings: Settings, action: str) -> int:
    desk = make_card_terminal(
        settings.hardware.card, settings.data_dir, currency=settings.store.currency.code
    )
    try:
        client = desk.client
    except LinkError as exc:
        print(
            _(
                "pos-hal: {error}. Check the cable and power; serial devices are listed under "
                "/dev/serial/by-id/."
            ).format(error=exc),
            file=sys.stderr,
        )
        return 3
    try:
        if action == "status":
            outcome = client.status_enquiry()
            software = outcome.software or "?"
            if outcome.terminal_status == 0:
                print(_("card terminal: ready; software {software}").format(software=software))
            else:
                print(
                    _("card terminal: status {status}; software {software}").format(
                        status=outcome.terminal_status, software=software
                    )
                )
        elif action == "diagnose":
            registered = client.register()
            outcome = client.status_enquiry()
            print(
                _(
                    "registration: {result}; terminal id {terminal_id}; status {status}; "
                    "software {software}"
                ).format(
                    result=_("ok") if registered.completed else registered.message,
                    terminal_id=registered.terminal_id or "?",
                    status=outcome.terminal_status,
                    software=outcome.software or "?",
                )
            )
        else:
            outcome = client.end_of_day()
            result = _("done") if outcome.completed else outcome.message
            print(_("end of day: {result}").format(result=result))
            for line in outcome.receipt_lines:  # the terminal's own receipt, as it is
                print(f"  {line}")
    except (LinkError, Refused) as exc:
        print(_("card terminal: {error}").format(error=exc), file=sys.stderr)
        return 1
    finally:
        desk.close()
    return 0


def cmd_printer_sim(settings: Settings, condition: str) -> int:
    """Paper near its end, out, the cover open, or back to normal, for the simulator
    printer of a running terminal (``make run``): its next job and health check see it."""
    state_file = settings.data_dir / "sim" / "printer"
    write_simulated_condition(state_file, condition)
    print(_("simulator printer: {condition} ({path})").format(condition=condition, path=state_file))
    backend = settings.hardware.printer.backend
    if backend != "simulator":
        print(
            _(
                "note: this configuration's printer is '{backend}', not the simulator: "
                "only a simulator printer reads this"
            ).format(backend=backend),
            file=sys.stderr,
        )
    return 0


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's layout with our own word for "usage:" (argparse's own words are in no
    catalogue of ours: its error messages stay English), and lines not broken inside a
    hyphenated name (99-pos-terminal.rules, end-of-day)."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


def _help_option(parser: argparse.ArgumentParser, group) -> None:
    group.add_argument("-h", "--help", action="help", help=_("show this help and exit"))


def _command(commands, name: str, summary: str) -> tuple[argparse.ArgumentParser, object]:
    """A subcommand with its help in the technician's language; its options' group."""
    parser = commands.add_parser(
        name, help=summary, description=summary, add_help=False, formatter_class=_HelpFormatter
    )
    group = parser.add_argument_group(_("options"))
    _help_option(parser, group)
    return parser, group


def build_parser() -> argparse.ArgumentParser:
    """The command line, its help in the language set now (``set_locale``)."""
    parser = argparse.ArgumentParser(
        prog="pos-hal",
        description=_("The technician's tool for the terminal's devices."),
        epilog=_(
            "Errors name the fix: a missing device says where it was looked for; a permission "
            "problem names the group and the udev rule ({rule}) that grant access."
        ).format(rule=UDEV_RULE),
        add_help=False,
        formatter_class=_HelpFormatter,
    )
    options = parser.add_argument_group(_("options"))
    _help_option(parser, options)
    options.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=_("the terminal's configuration (default: {path})").format(path=DEFAULT_CONFIG),
    )
    options.add_argument(
        "--lang",
        choices=LOCALES,
        metavar="LANG",
        help=_(
            "the language to speak, one of {languages} (default: the shop's language, "
            "store.locale in the configuration)"
        ).format(languages=", ".join(LOCALES)),
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title=_("commands")
    )
    _command(commands, "list", _("what is configured, what is found"))
    _command(commands, "print-test", _("a status ticket on the receipt printer"))
    _command(commands, "drawer", _("one opening pulse of the cash drawer"))
    _command(commands, "display-test", _("two lines on the customer display"))
    for name, summary, default_count in (
        ("scan", _("show codes as the scanner delivers them"), 1),
        ("keypad", _("show keys as the keypad delivers them (digits masked)"), 4),
    ):
        _parser, group = _command(commands, name, summary)
        group.add_argument(
            "--count",
            type=int,
            default=default_count,
            metavar="N",
            help=_("how many to wait for (default: {n})").format(n=default_count),
        )
        group.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help=_("how long to wait for each (default: {seconds} s)").format(seconds=60),
        )
    card, _group = _command(commands, "card", _("talk to the card terminal"))
    card.add_argument_group(_("arguments")).add_argument(
        "action",
        choices=["status", "diagnose", "end-of-day"],
        help=_("status, diagnose (registration and status) or end-of-day"),
    )
    printer_sim, _group = _command(
        commands, "printer-sim", _("set the simulator printer's condition from outside")
    )
    printer_sim.add_argument_group(_("arguments")).add_argument(
        "condition",
        choices=SIMULATED_CONDITIONS,
        help=_("one of {conditions}").format(conditions=", ".join(SIMULATED_CONDITIONS)),
    )
    return parser


def _language_first(argv: list[str]) -> tuple[Settings | None, ConfigError | None]:
    """Read ``--config`` and ``--lang`` ahead of the rest, so the help and every message
    are in the technician's language: ``--lang``, else the shop's, else English (a
    configuration that cannot be read is said so after the full command line is read)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    early.add_argument("--lang")
    known, _rest = early.parse_known_args(argv)
    settings, problem = None, None
    try:
        settings = load_settings(known.config)
    except ConfigError as exc:
        problem = exc
    if known.lang in LOCALES:
        set_locale(known.lang)
    else:  # none given, or one the full command line refuses
        set_locale(settings.store.locale if settings else "en")
    return settings, problem


def main(argv: list[str] | None = None) -> int:
    before = current_locale()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        set_locale(before)  # called in a process of its own or a test's: left as found


def _main(argv: list[str]) -> int:
    settings, problem = _language_first(argv)
    args = build_parser().parse_args(argv)
    if settings is None:
        print(_("pos-hal: configuration error: {error}").format(error=problem), file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            return cmd_list(settings)
        if args.command == "print-test":
            return cmd_print_test(settings)
        if args.command == "drawer":
            return cmd_drawer(settings)
        if args.command == "display-test":
            return cmd_display_test(settings)
        if args.command == "scan":
            return cmd_scan(settings, args.count, args.timeout)
        if args.command == "keypad":
            return cmd_keypad(settings, args.count, args.timeout)
        if args.command == "printer-sim":
            return cmd_printer_sim(settings, args.condition)
        return cmd_card(settings, args.action)
    except OSError as exc:
        problem_text = device_problem(exc, args.command, exc.filename or "")
        print(_("pos-hal: {problem}").format(problem=problem_text), file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
