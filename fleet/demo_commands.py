"""``pos-fleet demo``: a week of sales from simulated terminals, to look at the console.

The terminals (T01, T02, ... in group ``demo``, stores with Indonesian names, time zone
Asia/Jakarta) are registered in the fleet database of ``[database]`` and their signed
journals go through the ingest in-process (see :mod:`fleet.demo`): no broker, no
terminal. Meant for a fresh, throw-away database (``sqlite:///var/fleet/demo.db``);
it refuses one that holds terminals of the same ids already.
"""

from __future__ import annotations

from rich.console import Console

from fleet.config import FleetConfig
from fleet.config_commands import _db


def add_parsers(commands, common) -> None:
    parser = commands.add_parser(
        "demo",
        parents=[common],
        help="fill the fleet database with a week of sales from simulated terminals",
    )
    parser.add_argument(
        "--days", type=int, default=7, help="whole days before today, and today (default 7)"
    )
    parser.add_argument("--stores", type=int, default=3, help="how many stores (default 3)")
    parser.add_argument(
        "--terminals", type=int, default=2, help="terminals in each store (default 2)"
    )
    parser.add_argument(
        "--sales", type=int, default=60, help="sales a terminal makes on a weekday (default 60)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same sales")


def run(config: FleetConfig, args, console: Console) -> int:
    # imported here: the demo runs the terminal's own code, which loads the printer's
    # libraries; `pos-fleet serve` and the rest start without them
    from fleet import demo  # noqa: PLC0415

    db = _db(config)
    try:
        done = demo.fill(
            db,
            stores=args.stores,
            terminals_per_store=args.terminals,
            days=args.days,
            sales_per_day=args.sales,
            seed=args.seed,
            progress=console.print,
        )
    except ValueError as exc:
        console.print(f"{exc}; nothing sent")
        return 1
    console.print(
        f"{len(done.terminals)} terminals in {len(set(done.terminals.values()))} stores, "
        f"{done.first_day} to {done.last_day}: {done.sales} sales, {done.refunds} refunds, "
        f"{done.voids} voided lines, {done.z_reports} Z reports"
    )
    first = next(iter(done.terminals))
    console.print(
        "next: pos-fleet terminals | pos-fleet sales --day "
        f"{done.last_day} | pos-fleet verify {first} | "
        "pos-fleet account add admin --role admin | pos-fleet console"
    )
    return 0
