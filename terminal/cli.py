"""``pos-terminal``: the app, and its admin subcommands.

Every command takes --store FILE beside --config: a store file (config/stores/*.toml)
whose shop sections and data_dir replace the configuration file's (the demo stores).

pos-terminal [--config FILE] run                 the full-screen terminal
pos-terminal [--config FILE] demo                one scripted cash sale in the real app;
                                                 screenshots and receipt under data_dir
pos-terminal [--config FILE] agent               the fleet agent, a process of its own
                                                 beside the app: sends the journal to
                                                 the fleet ([fleet]); logs to agent.log
pos-terminal [--config FILE] journal verify [--public-key] [--head SEQ:HASH]
                                                 the chain, the signatures, every epoch;
                                                 --head: the last receipt's or Z report's
                                                 entry must be there (truncation shows)
pos-terminal [--config FILE] journal export DIR  JSONL + public key + offline verifier
pos-terminal [--config FILE] db migrate          encrypt an older plaintext database
pos-terminal [--config FILE] db reset --confirm-loss
                                                 when the database is lost and there is no
                                                 backup: an empty one, a new journal epoch
                                                 that records the loss, numbers carried on
pos-terminal [--config FILE] backup [TARGET]     online, encrypted, checked backup into
                                                 a directory (a USB stick) or a .posdb file
pos-terminal [--config FILE] restore FILE        check a backup, then put it in place
                                                 (the replaced database is kept)
pos-terminal [--config FILE] restore --from-fleet FILE
                                                 a replacement, before its first start:
                                                 the lost terminal's records from the
                                                 fleet's copy (pos-fleet export)
pos-terminal [--config FILE] export FILE         sales, customers, products, cashiers and
                                                 the journal, for a replacement terminal
pos-terminal [--config FILE] import FILE         ... into a new terminal (same passphrase)
pos-terminal [--config FILE] cashier list | add ID NAME ROLE | set-pin ID
pos-terminal [--config FILE] keys recovery-export FILE
                                                 the key store, encrypted to the
                                                 configured recovery public key
pos-terminal [--config FILE] keys recover FILE --recovery-key PEM
                                                 rebuild the key store from that export
                                                 (card moved to another Pi, TPM replaced)
pos-terminal [--config FILE] keys protect        wrap the key store with the configured
                                                 protector (e.g. a TPM fitted later)
pos-terminal [--config FILE] keys status         the protector, and what the key store
                                                 remembers of the database
pos-terminal keys recovery-keypair DIR           the owner's recovery key pair (on the
                                                 owner's computer, not a terminal)
pos-terminal [--config FILE] selfcheck           imports, configuration, database and
                                                 devices: one line each, ok or FAILED
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import logging.handlers
import os
import signal
import sys
import threading
from pathlib import Path

from terminal import admin
from terminal.config import Settings, load_settings
from terminal.core.errors import ConfigError, PosError
from terminal.i18n import _, set_locale
from terminal.selfcheck import selfcheck
from terminal.services.bootstrap import build_terminal
from terminal.store.backup import BackupError
from terminal.store.continuity import StartRefused
from terminal.store.db import DatabaseUnusable
from terminal.store.keystore import KeyStoreError
from terminal.store.migrate import MigrationError
from terminal.store.transfer import TransferError
from terminal.ui.kivy_setup import configure_kivy

DEFAULT_CONFIG = Path("config/pos.toml")


LOG_BYTES = 5 * 1024 * 1024  # one log file; 5 of them kept: 30 MiB at most on the card
LOG_FILES = 5


def setup_logging(settings: Settings, name: str = "pos") -> None:
    """Log to the terminal's stderr and, unless systemd's journal takes stderr already
    (``JOURNAL_STREAM``), to ``<data_dir>/logs/<name>.log`` (the fleet agent: its own
    ``agent.log``: two processes never rotate one file), rotated so an SD card never
    fills up. Lines the end-to-end tests wait on are a contract: see DEVELOPERS.md."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if not os.environ.get("JOURNAL_STREAM"):
        log_dir = settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_dir / f"{name}.log", maxBytes=LOG_BYTES, backupCount=LOG_FILES
            )
        )
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,  # python-escpos calls logging.basicConfig() when imported
    )
    # peewee's DEBUG output carries query parameters - what a cashier typed among them.
    logging.getLogger("peewee").setLevel(logging.INFO)


def _start(settings: Settings, *, headless: bool = False):
    """Kivy configured before its first import; then the terminal and its window."""

    set_locale(settings.store.locale)
    configure_kivy(settings.ui, settings.data_dir, headless=headless)
    return build_terminal(settings)


def cmd_run(settings: Settings) -> int:
    # Ctrl+C or a SIGTERM, even while the terminal is starting: the window closes the
    # normal way, so the journal gets its stop entry and the devices are closed (no
    # KeyboardInterrupt traceback). Set first: a signal may come at any moment.
    app = None
    stop_asked = False

    def stop_cleanly(_signum, _frame) -> None:
        nonlocal stop_asked
        stop_asked = True
        if app is not None:
            from kivy.clock import Clock  # noqa: PLC0415 - Kivy after configure_kivy

            Clock.schedule_once(lambda _dt: app.stop())

    signal.signal(signal.SIGINT, stop_cleanly)
    signal.signal(signal.SIGTERM, stop_cleanly)
    try:
        terminal = _start(settings)
    except (DatabaseUnusable, KeyStoreError, StartRefused) as exc:
        # the cashier sees the screen, not stderr: say it there, and sell nothing
        from terminal.ui.stopped import StoppedApp  # noqa: PLC0415 - Kivy after configure_kivy

        reason = exc.translated(_) if isinstance(exc, StartRefused) else str(exc)
        logging.getLogger(__name__).error("terminal stopped: %s", exc)
        print(f"pos-terminal: {exc}", file=sys.stderr)
        app = StoppedApp(reason, settings.ui.screenshot_dir)
        app.run()
        return 3
    from kivy.clock import Clock  # noqa: PLC0415

    from terminal.ui.app import PosApp  # noqa: PLC0415 - Kivy only after configure_kivy

    app = PosApp(terminal, settings)
    if stop_asked:  # while it was starting: it starts, then stops at once
        Clock.schedule_once(lambda _dt: app.stop())
    app.run()
    return 0


def cmd_demo(settings: Settings) -> int:
    terminal = _start(settings, headless=True)
    from terminal.ui.demo import run_demo  # noqa: PLC0415 - Kivy only after configure_kivy

    if settings.online_orders.enabled:  # a CS desk (make run-online): the online tour
        from terminal.ui.online_demo import run_online_demo  # noqa: PLC0415

        shots = run_online_demo(terminal.pos, settings, settings.data_dir / "screenshots")
    else:
        shots = run_demo(terminal.pos, settings, settings.data_dir / "screenshots")
    for path in shots:
        print(path)
    return 0


def cmd_agent(settings: Settings) -> int:
    """The fleet agent until SIGTERM or Ctrl+C (then it says offline and disconnects)."""
    from terminal.fleet.agent import run_agent  # noqa: PLC0415 - paho only for the agent

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    try:
        return run_agent(settings, stopping)
    except ConfigError as exc:
        print(f"pos-terminal: configuration error: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    # --config and --screenshots may stand before or after the subcommand
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    common.add_argument(
        "--store",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="a store file (config/stores/mn.toml): its shop sections and data_dir "
        "replace the configuration file's",
    )
    common.add_argument(
        "--screenshots",
        type=Path,
        default=argparse.SUPPRESS,
        help="save a PNG of every screen reached into this directory",
    )
    parser = argparse.ArgumentParser(
        prog="pos-terminal",
        description=__doc__,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", parents=[common])
    commands.add_parser("demo", parents=[common])
    commands.add_parser("agent", parents=[common])
    journal = commands.add_parser("journal").add_subparsers(dest="action", required=True)
    verify = journal.add_parser("verify", parents=[common])
    verify.add_argument(
        "--public-key",
        action="store_true",
        help="check the signatures with the public key only, as an auditor does",
    )
    verify.add_argument(
        "--head",
        metavar="SEQ:HASH",
        help="the entry printed on the last receipt or Z report, e.g. 153:3F9A0C11",
    )
    journal.add_parser("export", parents=[common]).add_argument("directory", type=Path)
    db = commands.add_parser("db").add_subparsers(dest="action", required=True)
    db.add_parser("migrate", parents=[common]).add_argument("--keep-plaintext", action="store_true")
    db.add_parser("reset", parents=[common]).add_argument(
        "--confirm-loss", action="store_true", help="yes: the database is lost, no backup"
    )
    commands.add_parser("backup", parents=[common]).add_argument(
        "target", type=Path, nargs="?", help="a directory (USB stick) or a .posdb file"
    )
    restore = commands.add_parser("restore", parents=[common]).add_mutually_exclusive_group(
        required=True
    )
    restore.add_argument("file", type=Path, nargs="?", help="a backup (.posdb)")
    restore.add_argument(
        "--from-fleet",
        type=Path,
        metavar="FILE",
        help="a replacement, before its first start: the lost terminal's records from the "
        "fleet's copy of its journal (pos-fleet export TERMINAL FILE)",
    )
    commands.add_parser("export", parents=[common]).add_argument("file", type=Path)
    commands.add_parser("import", parents=[common]).add_argument("file", type=Path)
    cashier = commands.add_parser("cashier").add_subparsers(dest="action", required=True)
    cashier.add_parser("list", parents=[common])
    add = cashier.add_parser("add", parents=[common])
    add.add_argument("id", type=int)
    add.add_argument("name")
    add.add_argument("role", choices=["cashier", "supervisor"])
    cashier.add_parser("set-pin", parents=[common]).add_argument("id", type=int)
    keys = commands.add_parser("keys").add_subparsers(dest="action", required=True)
    keys.add_parser("recovery-export", parents=[common]).add_argument("file", type=Path)
    recover = keys.add_parser("recover", parents=[common])
    recover.add_argument("file", type=Path, help="the recovery export")
    recover.add_argument("--recovery-key", type=Path, required=True, help="the private key PEM")
    keys.add_parser("protect", parents=[common])
    keys.add_parser("status", parents=[common])
    keys.add_parser("recovery-keypair", parents=[common]).add_argument("directory", type=Path)
    commands.add_parser("selfcheck", parents=[common])
    args = parser.parse_args(argv)
    if args.command == "selfcheck":  # reports a broken configuration itself, as a line
        return selfcheck(
            getattr(args, "config", DEFAULT_CONFIG), sys.stdout, getattr(args, "store", None)
        )
    if args.command == "keys" and args.action == "recovery-keypair":  # no terminal involved
        return admin.keys_recovery_keypair(args.directory)
    try:
        settings = load_settings(
            getattr(args, "config", DEFAULT_CONFIG), getattr(args, "store", None)
        )
    except ConfigError as exc:
        print(f"pos-terminal: configuration error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "screenshots", None):
        settings = dataclasses.replace(
            settings, ui=dataclasses.replace(settings.ui, screenshot_dir=args.screenshots)
        )
    command = args.command or "run"
    setup_logging(settings, "agent" if command == "agent" else "pos")
    try:
        if command == "run":
            return cmd_run(settings)
        if command == "demo":
            return cmd_demo(settings)
        if command == "agent":
            return cmd_agent(settings)
        if command == "journal":
            if args.action == "verify":
                return admin.journal_verify(
                    settings, public_key_only=args.public_key, head=args.head
                )
            return admin.journal_export(settings, args.directory)
        if command == "backup":
            return admin.backup(settings, args.target)
        if command == "restore":
            if args.from_fleet:
                return admin.restore_from_fleet(settings, args.from_fleet)
            return admin.restore(settings, args.file)
        if command == "export":
            return admin.export(settings, args.file)
        if command == "import":
            return admin.import_(settings, args.file)
        if command == "cashier":
            if args.action == "list":
                return admin.cashier_list(settings)
            if args.action == "add":
                return admin.cashier_add(settings, args.id, args.name, args.role)
            return admin.cashier_set_pin(settings, args.id)
        if command == "db":
            if args.action == "reset":
                return admin.db_reset(settings, args.confirm_loss)
            return admin.db_migrate(settings, args.keep_plaintext)
        if args.action == "recover":
            return admin.keys_recover(settings, args.file, args.recovery_key)
        if args.action == "protect":
            return admin.keys_protect(settings)
        if args.action == "status":
            return admin.keys_status(settings)
        return admin.keys_recovery_export(settings, args.file)
    except (
        DatabaseUnusable,
        KeyStoreError,
        MigrationError,
        BackupError,
        TransferError,
        PosError,
        ValueError,
    ) as exc:
        print(f"pos-terminal: {exc}", file=sys.stderr)
        return 3
