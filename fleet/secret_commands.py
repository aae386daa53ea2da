"""``pos-fleet secret set|list|remove``: the PINs of the cashiers and the codes of the
passkey categories that the configuration documents name (:mod:`fleet.secrets`).

    pos-fleet secret set --group north --cashier 7        asks for the PIN twice
    pos-fleet secret set --group north --passkey discounts --stdin   one line from stdin
    pos-fleet secret list [--group north]                 names and when set, never values
    pos-fleet secret remove --group north --cashier 7

A value set here goes out with the next push of a document that names it (``pos-fleet
config push``); it is never printed, logged or stored as typed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fleet import secrets as fleet_secrets
from fleet.config import FleetConfig
from fleet.config_commands import _db, _scope, _scope_options
from terminal.core.approval import CATEGORIES
from terminal.core.config_secrets import cashier_secret, passkey_secret


def add_parsers(commands, common) -> None:
    secret = commands.add_parser(
        "secret", help="cashiers' PINs and passkeys' codes, sealed (sent with the next push)"
    )
    actions = secret.add_subparsers(dest="action", required=True)
    which = argparse.ArgumentParser(add_help=False)
    name = which.add_mutually_exclusive_group(required=True)
    name.add_argument("--cashier", type=int, metavar="ID", help="a cashier's PIN")
    name.add_argument("--passkey", choices=CATEGORIES, help="a passkey category's code")
    set_ = actions.add_parser(
        "set", parents=[common, _scope_options(True), which], help="set a PIN or passkey"
    )
    set_.add_argument(
        "--stdin", action="store_true", help="read the value from one line of standard input"
    )
    actions.add_parser(
        "list", parents=[common, _scope_options(False)], help="the secrets set (no values)"
    )
    actions.add_parser(
        "remove", parents=[common, _scope_options(True), which], help="forget a secret"
    )


def _name(args) -> str:
    return (
        cashier_secret(args.cashier) if args.cashier is not None else passkey_secret(args.passkey)
    )


def _read_value(args, name: str) -> str:
    if args.stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{name}: ")
    if getpass.getpass(f"{name} again: ") != first:
        raise fleet_secrets.SecretError("the two entries differ; nothing set")
    return first


def run(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    scope = _scope(args)
    if args.action == "list":
        table = Table("scope", "secret", "set at (UTC)")
        for row in fleet_secrets.list_secrets(db, scope):
            table.add_row(row.scope, row.name, f"{row.set_at:%Y-%m-%d %H:%M:%S}")
        console.print(table)
        return 0
    assert scope is not None  # required by the parser
    name = _name(args)
    if args.action == "remove":
        if not fleet_secrets.remove_secret(db, scope, name):
            console.print(f"{scope.label} has no {name}")
            return 1
        console.print(f"{name} of {scope.label} removed")
        return 0
    try:
        value = _read_value(args, name)
        fleet_secrets.set_secret(db, Path(config.signing.dir), scope, name, value)
    except fleet_secrets.SecretError as exc:
        console.print(str(exc))
        return 1
    console.print(
        f"{name} of {scope.label} set (sealed); it goes out with the next push of a "
        "document that names it"
    )
    return 0
