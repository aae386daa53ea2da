"""``pos-fleet``: the fleet side's commands.

    pos-fleet ca init                         the fleet CA, the broker's and ingest's certificates
    pos-fleet broker                          Mosquitto with the fleet's configuration (one machine)
    pos-fleet serve                           the ingest service (several may share a broker)
    pos-fleet terminal add T01 --store S --group G --journal-key FILE --out DIR
    pos-fleet terminals                       state, last seen, unsent, versions, alerts
    pos-fleet sales --day 2026-11-27          per store and terminal
    pos-fleet events [--follow]               alerts and device events
    pos-fleet verify T01                      the terminal's chain as the fleet holds it
    pos-fleet export T01 FILE                 its journal as held, for restore --from-fleet
    pos-fleet keys init --root-dir DIR        the root key (offline) and a first signing key
    pos-fleet keys new-signing-key|rotate|revoke KEYID --root-dir DIR   a new key list
    pos-fleet keys list                       the signing keys and their state
    pos-fleet config sign --scope group:G FILE.toml -o OUT.json   a signed shop document
    pos-fleet config push --scope group:G FILE.toml [--waves 1%,10%,100%]   signed, sent in waves
    pos-fleet config edit --group G [--waves ...]   the newest document in $EDITOR, diff, push
    pos-fleet config status [--scope S]       per terminal: applied versions, last result
    pos-fleet config rollback --scope S       the previous document again, as a new version
    pos-fleet rollout status|pause|resume|abort [ID]   a rollout (default: the newest)
    pos-fleet secret set --group G --cashier 7 | --passkey CATEGORY   a PIN or code, sealed
    pos-fleet secret list|remove              the PINs and codes set (never their values)
    pos-fleet demo [--days 7] [--stores 3] [--terminals 2] [--seed 1]   a week of simulated sales
    pos-fleet console [--host H] [--port P]   the web console ([console] of fleet.toml)
    pos-fleet account add NAME --role R [--stores S1,S2] [--language id] [--stdin]
    pos-fleet account passwd|totp|disable NAME   a password, a second factor, no more sign-ins
    pos-fleet account list                    the console's accounts, roles and stores

Settings: ``config/fleet.toml`` (or ``--config FILE``). Exit status 0 when done, 1 when
the thing asked for is not so (an unknown terminal, a broken chain), 2 for a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import peewee
from rich.console import Console
from rich.table import Table

from fleet import broker as local_broker
from fleet import (
    config_commands,
    console_commands,
    demo_commands,
    job_commands,
    metrics,
    orders_commands,
    reports,
    secret_commands,
    stock_commands,
)
from fleet import export as fleet_export
from fleet import signing as fleet_signing
from fleet.config import ConfigError, FleetConfig, load_config
from fleet.db import connect, create_tables
from fleet.enrollment import Enroller
from fleet.enrollment_service import EnrollBrokerSettings, EnrollmentService
from fleet.ingest import Ingest
from fleet.models import Alert, DeviceEvent, Sale, TerminalConfig
from fleet.orders.keys import orders_sealer
from fleet.orders.service import OrderDesk, OrderService
from fleet.passphrases import passphrase
from fleet.registry import get_terminal, list_terminals, register_terminal
from fleet.server import BrokerSettings, IngestServer
from fleet.shipping.awb import from_settings as awb_worker
from terminal.core import signed_config
from terminal.core.online_orders import DeadlineRule

log = logging.getLogger("fleet")


def _db(config: FleetConfig):
    db = connect(config.database.url)
    create_tables(db)
    return db


def cmd_serve(config: FleetConfig, args, console: Console) -> int:
    b = config.broker
    db = _db(config)
    ingest = Ingest(db)
    if args.metrics:  # Prometheus: this instance's counters and the fleet's figures
        metrics.serve(
            args.metrics,
            lambda: (
                metrics.ingest_samples(ingest.stats)
                + metrics.fleet_samples(db, datetime.now(UTC).replace(tzinfo=None))
            ),
        )
        log.info("metrics on http://%s/metrics", args.metrics)
    server = IngestServer(
        ingest,
        BrokerSettings(
            b.host,
            b.port,
            Path(b.ca_file),
            Path(b.cert_file),
            Path(b.key_file),
            args.client_id or b.client_id,
            b.keepalive,
        ),
    )
    enrollment = None
    if config.enrollment.enabled:  # new terminals, on the enrollment broker
        e = config.enrollment
        enrollment = EnrollmentService(
            Enroller(
                db,
                Path(config.pki.dir),
                Path(config.signing.dir),
                passphrase=lambda: passphrase("online"),
            ),
            EnrollBrokerSettings(
                e.host, e.port, Path(b.ca_file), local_broker.enroller_secret(Path(config.pki.dir))
            ),
            lambda topic, payload: server.client.publish(topic, payload, qos=1, retain=True),
        )
        enrollment.start()

    online = None
    if config.orders.enabled:  # CS desks' online orders (seed 001), beside the ingest
        o = config.orders
        sealer = orders_sealer(Path(config.signing.dir))
        online = OrderService(
            OrderDesk(
                db,
                sealer,
                deadline=DeadlineRule.parse(o.deadline),
                warehouses=tuple(o.warehouses),
                codes=(o.code_low, o.code_high),
                awb=awb_worker(o, db, sealer),  # None: no courier API, CS types them
            ),
            server.broker,
            release_seconds=o.release_seconds,
        )
        online.start(timeout=0)

    def stop(_signum, _frame) -> None:
        if enrollment is not None:
            enrollment.stop()
        if online is not None:
            online.stop()
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("pos-fleet serve: %s:%d as %s", b.host, b.port, args.client_id or b.client_id)
    server.serve_forever()
    return 0


def cmd_broker(config: FleetConfig, _args, console: Console) -> int:
    """The fleet's broker and, with ``[local_broker] enroll_port``, the enrollment broker
    (a second Mosquitto, stopped with the first)."""
    pki_dir = Path(config.pki.dir)
    if not (pki_dir / "broker.crt").exists():
        console.print(f"no broker certificate in {pki_dir}: run `pos-fleet ca init` first")
        return 1
    files = {
        "cafile": (pki_dir / "ca.crt").resolve(),
        "certfile": (pki_dir / "broker.crt").resolve(),
        "keyfile": (pki_dir / "broker.key").resolve(),
    }
    directory = Path(config.local_broker.dir)
    conf = local_broker.write_config(
        directory, port=config.broker.port, host=config.broker.host, **files
    )
    enrolling = None
    if config.local_broker.enroll_port:
        enroll_conf = local_broker.write_enroll_config(
            directory / "enroll",
            port=config.local_broker.enroll_port,
            host=config.local_broker.enroll_host,
            secret=local_broker.enroller_secret(pki_dir),
            **files,
        )
        enrolling = subprocess.Popen([local_broker.mosquitto_binary(), "-c", str(enroll_conf)])
        console.print(
            f"enrollment broker on {config.local_broker.enroll_host}:"
            f"{config.local_broker.enroll_port} ({enroll_conf})"
        )
    console.print(f"mosquitto on {config.broker.host}:{config.broker.port} ({conf})")
    try:
        return subprocess.call([local_broker.mosquitto_binary(), "-c", str(conf)])
    finally:
        if enrolling is not None:
            enrolling.terminate()
            enrolling.wait(10)


def cmd_ca_init(config: FleetConfig, _args, console: Console) -> int:
    online, root = passphrase("online"), passphrase("root")
    written = local_broker.init_pki(
        Path(config.pki.dir),
        config.pki.broker_names,
        root_dir=Path(config.pki.root_dir) if config.pki.root_dir else None,
        passphrase=online,
        root_passphrase=root,
    )
    for path in written:
        console.print(f"wrote {path}")
    if written and not (online and root):
        console.print(
            "the CA keys are not encrypted (no passphrase given: development only; "
            "`pos-provision pki init` for a fleet in production)"
        )
    return 0


def cmd_terminal_add(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    key_id = register_terminal(
        db,
        args.terminal_id,
        store=args.store,
        group=args.group,
        public_key_pem=args.journal_key.read_bytes(),
        timezone=args.timezone,
    )
    console.print(f"{args.terminal_id} registered: store {args.store}, group {args.group}")
    console.print(f"journal key {key_id}")
    if args.out:
        for path in local_broker.issue_terminal(Path(config.pki.dir), args.terminal_id, args.out):
            console.print(f"wrote {path}")
    return 0


def _ago(when: datetime | None) -> str:
    """``when``: naive UTC, as the fleet writes its times."""
    if when is None:
        return "never"
    seconds = max(0, int((datetime.now(UTC).replace(tzinfo=None) - when).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _config_cell(local_version: int | None, status) -> str:
    """The fleet's versions the terminal reported applied (``group:north 2, fleet 1``),
    and its last refusal; else the local configuration version its presence names."""
    if status is not None:
        versions = json.loads(status.versions_json or "{}")
        text = ", ".join(f"{scope} {n}" for scope, n in sorted(versions.items())) or "-"
        if status.result == "refused":
            text += f" [red](refused: {status.reason})[/]"
        elif status.result == "held":
            text += " (held for a sale)"
        return text
    return "-" if local_version is None else f"local {local_version}"


def cmd_terminals(config: FleetConfig, _args, console: Console) -> int:
    db = _db(config)
    table = Table(title="Terminals")
    for name in (
        "terminal",
        "store",
        "group",
        "state",
        "last seen",
        "held",
        "unsent",
        "software",
        "config",
        "open alerts",
    ):
        table.add_column(name, justify="right" if name in ("held", "unsent") else "left")
    open_alerts = reports.open_alerts_by_terminal(db)
    reported = {c.terminal_id: c for c in TerminalConfig.select().bind(db)}
    for t in list_terminals(db):
        state = "[green]online[/]" if t.status == "online" else "[red]offline[/]"
        table.add_row(
            t.id,
            t.store,
            t.group,
            state,
            _ago(t.last_seen),
            str(t.acked_seq),
            str(t.unsent),
            t.software or "-",
            _config_cell(t.config_version, reported.get(t.id)),
            str(open_alerts.get(t.id, 0)),
        )
    console.print(table)
    return 0


def cmd_sales(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    day = args.day or date.today()
    rows = reports.sales_by_day(db, day)
    table = Table(title=f"Sales on {day.isoformat()}")
    for name in ("store", "terminal", "sales", "total", "paid", "refunds", "net"):
        table.add_column(name, justify="left" if name in ("store", "terminal") else "right")
    for row in rows:
        table.add_row(
            row.store,
            row.terminal_id,
            str(row.count),
            f"{row.total:,}",
            f"{row.paid:,}",
            f"{row.refunds:,}",
            f"{row.paid - row.refunds:,}",
        )
    console.print(table)
    if not rows:
        latest = Sale.select(peewee.fn.MAX(Sale.business_day)).bind(db).scalar()
        if latest is not None:
            console.print(
                f"No sales on {day.isoformat()} (business days are the stores' own); "
                f"the latest day with sales: pos-fleet sales --day {latest}"
            )
    return 0


def _events(db, after_alert: int, after_event: int):
    alerts = list(Alert.select().where(Alert.id > after_alert).order_by(Alert.id).bind(db))
    events = list(
        DeviceEvent.select().where(DeviceEvent.id > after_event).order_by(DeviceEvent.id).bind(db)
    )
    return alerts, events


def cmd_events(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    last_alert = last_event = 0
    while True:
        alerts, events = _events(db, last_alert, last_event)
        for a in alerts:
            state = "resolved" if a.resolved else "open"
            console.print(
                f"{a.at:%Y-%m-%d %H:%M:%S} [bold red]alert[/] {a.terminal_id or '-'} "
                f"{a.kind} {a.device} x{a.count} ({state}) {a.detail}"
            )
            last_alert = a.id
        for e in events:
            console.print(
                f"{e.received_at:%Y-%m-%d %H:%M:%S} [yellow]event[/] {e.terminal_id} "
                f"{e.kind} {e.device} {e.detail}"
            )
            last_event = e.id
        if not args.follow:
            return 0
        time.sleep(1)


def cmd_verify(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    if get_terminal(db, args.terminal_id) is None:
        console.print(f"{args.terminal_id}: not a registered terminal")
        return 1
    verdict = reports.verify_chain(db, args.terminal_id)
    console.print(str(verdict))
    return 0 if verdict.ok else 1


def cmd_export(config: FleetConfig, args, console: Console) -> int:
    """The fleet's copy of a terminal's journal, for ``pos-terminal restore --from-fleet``."""
    db = _db(config)
    try:
        done = fleet_export.export_journal(db, args.terminal_id, args.file)
    except LookupError:
        console.print(f"{args.terminal_id}: not a registered terminal; nothing written")
        return 1
    except fleet_export.ExportError as exc:
        console.print(f"{exc}; nothing written")
        return 1
    epoch, seq, digest = done.head
    console.print(
        f"{done.entries} journal entries of {done.terminal_id} written to {done.path}, "
        f"up to seq {seq} (epoch {epoch}, {digest[:8].upper()})"
    )
    if done.reported_head > seq:
        console.print(
            f"{done.terminal_id} had reported entries up to seq {done.reported_head}: "
            f"seq {seq + 1}-{done.reported_head} never reached the fleet and are not in it"
        )
    console.print(f"on the replacement: pos-terminal restore --from-fleet {done.path.name}")
    return 0


def _scopes(args) -> list[str] | None:
    return [s.strip() for s in args.scopes.split(",")] if getattr(args, "scopes", None) else None


def _key_list_done(done: fleet_signing.KeyListDone, signing_dir: Path, console: Console) -> None:
    if done.added:
        console.print(f"signing key {done.added}: {signing_dir / fleet_signing.KEYS}")
    for kid in done.revoked:
        console.print(f"signing key {kid} revoked (its private key file deleted)")
    console.print(
        f"key list version {done.version} signed by the root, valid until "
        f"{signed_config.iso(done.expires_at)}: {done.path} (send it to the terminals)"
    )


def cmd_keys(config: FleetConfig, args, console: Console) -> int:
    """``pos-fleet keys init|new-signing-key|rotate|revoke|list``."""
    signing_dir = Path(config.signing.dir)
    now = datetime.now(UTC)
    try:
        if args.action == "list":
            return _keys_list(signing_dir, now, console)
        expires = fleet_signing.parse_duration(args.expires)
        if args.action == "init":
            done = fleet_signing.init(args.root_dir, signing_dir, now, expires, _scopes(args))
            console.print(f"root key {done.root_id}: {args.root_dir / fleet_signing.ROOT_KEY}")
            console.print(
                f"pin {done.root_public} on every terminal at enrollment; keep {args.root_dir} "
                "offline"
            )
        elif args.action == "new-signing-key":
            done = fleet_signing.change_keys(
                args.root_dir, signing_dir, now, add=True, scopes=_scopes(args), expires=expires
            )
        elif args.action == "rotate":
            done = fleet_signing.rotate(args.root_dir, signing_dir, now, args.key_id, expires)
        else:  # revoke
            done = fleet_signing.change_keys(
                args.root_dir, signing_dir, now, revoke=(args.key_id,), expires=expires
            )
    except fleet_signing.SigningError as exc:
        console.print(f"{exc}; nothing changed")
        return 1
    _key_list_done(done, signing_dir, console)
    return 0


def _keys_list(signing_dir: Path, now: datetime, console: Console) -> int:
    key_list, rows = fleet_signing.list_keys(signing_dir)
    state = "[red]expired[/]" if now >= key_list.expires_at else "valid"
    table = Table(
        title=f"Signing keys (key list version {key_list.version}, {state} until "
        f"{signed_config.iso(key_list.expires_at)})"
    )
    for name in ("key id", "status", "may sign"):
        table.add_column(name)
    colour = {"active": "green", "revoked": "red"}
    for row in rows:
        status = f"[{colour.get(row.status, 'yellow')}]{row.status}[/]"
        may_sign = ", ".join(row.scopes) if row.scopes else "any scope"
        table.add_row(row.key_id, status, "-" if row.status == "revoked" else may_sign)
    console.print(table)
    return 0


def cmd_config(config: FleetConfig, args, console: Console) -> int:
    """``pos-fleet config sign|push|status|rollback``."""
    if args.action != "sign":
        return config_commands.run(config, args, console)
    signing_dir = Path(config.signing.dir)
    scope = signed_config.parse_scope(args.scope)
    expires = fleet_signing.parse_duration(args.expires)
    try:
        document = fleet_signing.read_document(args.file)
        signed = fleet_signing.sign_config(
            signing_dir,
            document,
            scope,
            datetime.now(UTC),
            version=args.version,
            expires=expires,
            key=args.key,
        )
    except fleet_signing.SigningError as exc:
        console.print(f"{exc}; nothing signed")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(signed.envelope)
    console.print(
        f"{scope.label} version {signed.version} signed by key {signed.key_id}, valid until "
        f"{signed_config.iso(signed.expires_at)}: {args.output} (sha256 {signed.sha256[:16]})"
    )
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "broker": cmd_broker,
    "terminals": cmd_terminals,
    "sales": cmd_sales,
    "events": cmd_events,
    "verify": cmd_verify,
    "export": cmd_export,
}


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="the fleet's settings (config/fleet.toml)")
    top = argparse.ArgumentParser(prog="pos-fleet", parents=[common])
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="the ingest service")
    serve.add_argument("--client-id", help="this instance's MQTT client id")
    serve.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve Prometheus metrics on http://HOST:PORT/metrics (e.g. 127.0.0.1:9108)",
    )
    commands.add_parser("broker", parents=[common], help="run Mosquitto for the fleet")
    ca = commands.add_parser("ca").add_subparsers(dest="action", required=True)
    ca.add_parser("init", parents=[common], help="the fleet CA and the service certificates")
    terminal = commands.add_parser("terminal").add_subparsers(dest="action", required=True)
    add = terminal.add_parser("add", parents=[common], help="register a terminal")
    add.add_argument("terminal_id")
    add.add_argument("--store", required=True)
    add.add_argument("--group", required=True)
    add.add_argument("--timezone", default="UTC", help="the store's, e.g. Asia/Jakarta")
    add.add_argument(
        "--journal-key",
        type=Path,
        required=True,
        help="the terminal's journal public key (pos-terminal journal export writes it)",
    )
    add.add_argument("--out", type=Path, help="write the terminal's certificate and key here")
    commands.add_parser("terminals", parents=[common], help="the terminals and their state")
    sales = commands.add_parser("sales", parents=[common], help="sales of a day")
    sales.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    events = commands.add_parser("events", parents=[common], help="alerts and device events")
    events.add_argument("--follow", action="store_true", help="keep printing new ones")
    verify = commands.add_parser("verify", parents=[common], help="a terminal's chain")
    verify.add_argument("terminal_id")
    export = commands.add_parser(
        "export",
        parents=[common],
        help="a terminal's journal as the fleet holds it (pos-terminal restore --from-fleet)",
    )
    export.add_argument("terminal_id")
    export.add_argument("file", type=Path, help="the JSON-lines file to write")
    _signing_parsers(commands, common)
    return top


def _signing_parsers(commands, common) -> None:
    keys = commands.add_parser("keys", help="the root and signing keys of signed configuration")
    actions = keys.add_subparsers(dest="action", required=True)
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument(
        "--root-dir", type=Path, required=True, help="the root key's directory (keep it offline)"
    )
    root.add_argument(
        "--expires", default=f"{fleet_signing.DEFAULT_KEY_LIST_DAYS}d", help="the key list's"
    )
    scopes = argparse.ArgumentParser(add_help=False)
    scopes.add_argument(
        "--scopes",
        help="what the new key may sign, e.g. group:north,terminal:* (default: any scope)",
    )
    actions.add_parser(
        "init", parents=[common, root, scopes], help="the root key and a first signing key"
    )
    actions.add_parser("new-signing-key", parents=[common, root, scopes], help="add a signing key")
    rotate = actions.add_parser(
        "rotate", parents=[common, root], help="a new signing key; the old one revoked"
    )
    rotate.add_argument("key_id", nargs="?", help="the key to retire (default: the newest)")
    revoke = actions.add_parser("revoke", parents=[common, root], help="revoke a signing key")
    revoke.add_argument("key_id")
    actions.add_parser("list", parents=[common], help="the signing keys and their state")
    config = commands.add_parser("config", help="signed shop configuration")
    config_actions = config.add_subparsers(dest="action", required=True)
    sign = config_actions.add_parser(
        "sign", parents=[common], help="sign a shop document (TOML) for a scope"
    )
    sign.add_argument("file", type=Path, help="the shop document: TOML, config/pos.toml's form")
    sign.add_argument("--scope", required=True, help="fleet, group:NAME or terminal:TID")
    sign.add_argument(
        "--version", type=int, help="default: one after the last signed for the scope"
    )
    sign.add_argument("--expires", default=f"{fleet_signing.DEFAULT_CONFIG_DAYS}d")
    sign.add_argument("--key", help="the signing key's id (default: the newest that may)")
    sign.add_argument("-o", "--output", type=Path, required=True, help="the envelope (JSON)")
    config_commands.add_parsers(commands, config_actions, common)
    job_commands.add_parsers(commands, common)
    secret_commands.add_parsers(commands, common)
    demo_commands.add_parsers(commands, common)
    orders_commands.add_parsers(commands, common)
    console_commands.add_parsers(commands, common)
    stock_commands.add_parsers(commands, common)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # a table piped to a file or another program keeps its rows on one line each
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        config = load_config(args.config)
        if args.command == "ca":
            return cmd_ca_init(config, args, console)
        if args.command == "terminal":
            return cmd_terminal_add(config, args, console)
        if args.command == "keys":
            return cmd_keys(config, args, console)
        if args.command == "config":
            return cmd_config(config, args, console)
        if args.command == "rollout":
            return config_commands.run_rollout(config, args, console)
        if args.command == "jobs":
            return job_commands.run(config, args, console)
        if args.command == "secret":
            return secret_commands.run(config, args, console)
        if args.command == "demo":
            return demo_commands.run(config, args, console)
        if args.command == "orders":
            return orders_commands.run(config, args, console)
        if args.command in ("console", "account"):
            return console_commands.run(config, args, console)
        if args.command == "stock":
            return stock_commands.run(config, args, console)
        return COMMANDS[args.command](config, args, console)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"pos-fleet: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
