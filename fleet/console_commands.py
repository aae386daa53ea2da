"""``pos-fleet console`` and ``pos-fleet account``: the web console and who signs in to it.

    pos-fleet console [--host H] [--port P]      serve it (``[console]`` of fleet.toml)
    pos-fleet account add NAME --role R [--stores S1,S2] [--language id] [--stdin]
    pos-fleet account passwd NAME [--stdin]      a new password (its sessions end)
    pos-fleet account totp NAME                  a new second factor: its otpauth URI, once
    pos-fleet account list                       names, roles, stores (never a secret)
    pos-fleet account disable NAME               no more sign-ins; its sessions end

A password is asked twice without echo, or read as one line of standard input with
``--stdin`` (for scripts); it is never printed. Each change is a row of the console's
audit (:class:`~fleet.models.ConsoleAudit`) naming the operating-system user who made it.

The console serves HTTPS itself when ``cert_file`` and ``key_file`` are set; otherwise
plain HTTP, for a reverse proxy that terminates TLS in front of it (its session cookies
are marked Secure, so a browser sends them back only over HTTPS: for a demo on one
machine without TLS, ``secure_cookies = false``).
"""

from __future__ import annotations

import getpass
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fleet.config import FleetConfig
from fleet.config_commands import _db
from fleet.console import accounts
from fleet.models import ConsoleAccount

log = logging.getLogger("fleet.console")


def add_parsers(commands, common) -> None:
    serve = commands.add_parser("console", parents=[common], help="serve the web console")
    serve.add_argument("--host", help="the address to listen on (default: [console] host)")
    serve.add_argument("--port", type=int, help="the port (default: [console] port)")
    account = commands.add_parser("account", help="the console's accounts")
    actions = account.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="a new account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=accounts.ROLES)
    add.add_argument("--stores", help="the stores a manager (or owner) sees: S1,S2")
    add.add_argument("--language", default="en", choices=("en", "id"))
    add.add_argument("--stdin", action="store_true", help="the password: one line of stdin")
    passwd = actions.add_parser("passwd", parents=[common], help="a new password")
    passwd.add_argument("name")
    passwd.add_argument("--stdin", action="store_true", help="the password: one line of stdin")
    totp = actions.add_parser(
        "totp", parents=[common], help="a new second factor (prints its otpauth URI once)"
    )
    totp.add_argument("name")
    actions.add_parser("list", parents=[common], help="the accounts, their roles and stores")
    disable = actions.add_parser("disable", parents=[common], help="refuse its sign-ins")
    disable.add_argument("name")


def run(config: FleetConfig, args, console: Console) -> int:
    if args.command == "console":
        return serve(config, args, console)
    db = _db(config)
    now = _now()
    try:
        if args.action == "list":
            return list_accounts(db, console)
        if args.action == "add":
            stores = (
                [s.strip() for s in args.stores.split(",") if s.strip()] if args.stores else None
            )
            password = _password(args.stdin)
            accounts.add_account(
                db, args.name, args.role, password, now, stores=stores, language=args.language
            )
            detail = f"{args.name}: {args.role}" + (
                f", stores {','.join(stores)}" if stores else ""
            )
            _audit(db, "account added", detail, now)
            console.print(f"account {args.name} added: {args.role}" + _stores_text(stores))
        elif args.action == "passwd":
            if accounts.get_account(db, args.name) is None:
                raise accounts.AccountError(f"no account {args.name}")
            accounts.set_password(db, args.name, _password(args.stdin))
            _audit(db, "password changed", args.name, now)
            console.print(f"{args.name}: new password set; its sessions are signed out")
        elif args.action == "totp":
            uri = accounts.new_totp_secret(db, args.name)
            _audit(db, "second factor set", args.name, now)
            console.print(
                f"{args.name}: add this to the authenticator app (shown once; the code it "
                "shows is asked at each sign-in):"
            )
            print(uri)  # (not through rich: a URI that wraps is not scanned)
        else:
            accounts.disable_account(db, args.name)
            _audit(db, "account disabled", args.name, now)
            console.print(f"{args.name}: disabled; its sessions are signed out")
    except accounts.AccountError as exc:
        console.print(f"{exc}; nothing changed")
        return 1
    return 0


def _now() -> datetime:
    """Naive UTC, as the console keeps its times."""
    return datetime.now(UTC).replace(tzinfo=None)


def _stores_text(stores: list[str] | None) -> str:
    return f", stores {', '.join(stores)}" if stores else ", all stores"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    accounts.check_password_rules(first)  # (refused before it is typed a second time)
    if getpass.getpass("password again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


def _audit(db, action: str, detail: str, now: datetime) -> None:
    """Who changed it: the operating-system user who ran the command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    accounts.audit(db, f"cli:{user}"[:64], action, detail, "cli", now)


def list_accounts(db, console: Console) -> int:
    table = Table(title="Console accounts")
    for name in ("name", "role", "stores", "language", "second factor", "state", "created"):
        table.add_column(name)
    for account in ConsoleAccount.select().order_by(ConsoleAccount.name).bind(db):
        stores = accounts.account_stores(account)
        table.add_row(
            account.name,
            account.role,
            ", ".join(sorted(stores)) if stores else "all",
            account.language,
            "TOTP" if account.totp_secret else "-",
            "[red]disabled[/]" if account.disabled else "active",
            f"{account.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    return 0


def serve(config: FleetConfig, args, console: Console) -> int:
    """Serve the console with uvicorn: HTTPS with ``[console] cert_file``/``key_file``,
    else plain HTTP (behind a reverse proxy that terminates TLS, or a demo)."""
    import uvicorn  # noqa: PLC0415 - the web stack is loaded only to serve

    from fleet.console.app import create_app  # noqa: PLC0415

    settings = config.console
    host = args.host or settings.host
    port = args.port or settings.port
    tls: dict[str, str] = {}
    if settings.cert_file or settings.key_file:
        if not (settings.cert_file and settings.key_file):
            raise ValueError("[console] cert_file and key_file: both, or neither")
        for path in (settings.cert_file, settings.key_file):
            if not Path(path).is_file():
                raise FileNotFoundError(f"[console]: no file {path}")
        tls = {"ssl_certfile": settings.cert_file, "ssl_keyfile": settings.key_file}
        log.info("pos-fleet console: https://%s:%d/", host, port)
    else:
        log.warning(
            "pos-fleet console: plain HTTP on http://%s:%d/ - put it behind a reverse proxy "
            "that terminates TLS (or set [console] cert_file and key_file)%s",
            host,
            port,
            "; its cookies are Secure, so sign-in works only through HTTPS (set "
            "secure_cookies = false only for a demo on one machine)"
            if settings.secure_cookies
            else "; secure_cookies = false: for a demo only, never in production",
        )
    app = create_app(_db(config), settings, fleet=config)
    # the client's address is the peer's: the console reads X-Forwarded-For itself, only
    # from [console] trusted_proxies (the sign-in throttle counts per address)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        **tls,
    )
    return 0
