"""``pos-fleet orders``: the online shop's demo (``make run-online``).

    pos-fleet orders seed --desk STORE           the warehouse's goods, a few items at the
                                                 desk, drop orders waiting
    pos-fleet orders statement --out FILE        the demo's bank: a BCA-style CSV paying
                                                 every booking open now

Both work on the fleet database of ``[database]``; the statement opens the customers'
names with the orders key of ``[signing] dir``. Meant for a throw-away demo database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from fleet.config import FleetConfig
from fleet.config_commands import _db
from fleet.orders.keys import orders_sealer


def add_parsers(commands, common) -> None:
    orders = commands.add_parser("orders", help="the online shop's demo")
    actions = orders.add_subparsers(dest="action", required=True)
    seed = actions.add_parser("seed", parents=[common], help="fill an empty online shop")
    seed.add_argument("--desk", required=True, help="the CS desk's store (its terminal's)")
    seed.add_argument("--seed", type=int, default=1, help="the same seed, the same stock")
    statement = actions.add_parser(
        "statement", parents=[common], help="a demo bank statement paying the open bookings"
    )
    statement.add_argument("--out", required=True, type=Path, help="the CSV file to write")
    statement.add_argument("--account", default="0123456789", help="the account's number")


def run(config: FleetConfig, args, console: Console) -> int:
    # imported here: the demo's goods are the terminal's demo catalogue, which
    # `pos-fleet serve` and the console never load
    from fleet.orders import demo  # noqa: PLC0415

    db = _db(config)
    now = datetime.now(UTC)
    if args.action == "seed":
        warehouse = config.orders.warehouses[0]
        try:
            count = demo.seed(db, desk=args.desk, warehouse=warehouse, at=now, seed=args.seed)
        except ValueError as exc:
            console.print(f"{exc}; nothing changed")
            return 1
        console.print(
            f"{warehouse}: {count} products received; {args.desk}: items handed over; "
            f"{demo.waiting_drops(db)} drop orders waiting for the warehouse"
        )
        return 0
    sealer = orders_sealer(Path(config.signing.dir))
    text = demo.bank_statement(
        db, sealer, account=args.account, now=now, tz=ZoneInfo(config.orders.timezone)
    )
    args.out.write_text(text, encoding="utf-8")
    console.print(f"{args.out}: a statement paying every open booking")
    return 0
