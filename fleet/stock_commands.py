"""``pos-fleet stock``: the stock ledger's upkeep.

``backfill``: a fleet upgraded to the stock ledger (issue 19) holds sales and refunds
ingested before it, and the online flow's moves; their movements are made from their
lines and moves (each once: safe to run again), the sale lines' revenue before tax from
their sale's, and the rollups and stock levels made again. Those lines stay without a
cost (no average was known when they were sold): the margins page counts them as
uncosted.
"""

from __future__ import annotations

from rich.console import Console

from fleet.central import rebuild_rollups
from fleet.config import FleetConfig
from fleet.config_commands import _db
from fleet.db import write_transaction
from fleet.inventory import backfill
from fleet.margins import backfill_nets
from fleet.orders.desk import backfill_ledger


def add_parsers(commands, common) -> None:
    stock = commands.add_parser("stock", help="the stock ledger's upkeep")
    actions = stock.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "backfill",
        parents=[common],
        help="movements for the sales and refunds ingested before the ledger existed",
    )


def run(config: FleetConfig, args, console: Console) -> int:
    db = _db(config)
    with write_transaction(db):
        sales, refunds = backfill(db)
        online = backfill_ledger(db)
        nets = backfill_nets(db)
        rebuild_rollups(db)  # the product and cashier days with their revenue; the levels
    console.print(
        f"stock ledger: movements made for {sales} sales and {refunds} refunds "
        f"ingested before it and {online} online-order moves; revenue before tax for "
        f"{nets} sales; rollups and stock levels made again"
    )
    return 0
