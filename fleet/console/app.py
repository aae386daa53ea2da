"""The console's Starlette application (``pos-fleet console`` serves it with uvicorn)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import peewee
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from fleet.config import ConsoleSettings, FleetConfig
from fleet.console.accounts import DEFAULT_COST, Argon2Cost
from fleet.console.operations import Operations
from fleet.console.pages import (
    accounts,
    auth,
    config,
    jobs,
    journal,
    margins,
    metrics,
    online_reports,
    payments,
    reports,
    sales,
    shipping,
    stock,
    stock_moves,
    stocktake,
    terminals,
    trends,
    warehouse,
)
from fleet.console.web import Console, utcnow
from fleet.orders.keys import orders_sealer

STATIC = Path(__file__).parent / "static"
PAGES = (auth, sales, reports, terminals, config, jobs, journal, payments, accounts, metrics)
PAGES += (warehouse, online_reports)  # online orders: 404 where they are off
PAGES += (shipping,)  # online orders' shipping: 404 where they are off
PAGES += (stock,)  # inventory: stock on hand from the journals' ledger
PAGES += (trends,)  # trends: charts of the rollups, each with its CSV
PAGES += (stock_moves,)  # deliveries (a supplier's note as CSV) and transfers
PAGES += (stocktake,)  # stock counts: opened here, counted blind at the terminals
PAGES += (margins,)  # gross margin: revenue net of tax less the goods' moving-average cost


def create_app(
    db: peewee.Database,
    settings: ConsoleSettings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    cost: Argon2Cost = DEFAULT_COST,
    live_every: float = 1.0,
    fleet: FleetConfig | None = None,
    payments_desk: payments.PaymentsDesk | None = None,
) -> Starlette:
    """The console on ``db``. ``fleet``: the fleet's settings whose signing directory and
    broker the admin's changes use (None: the console only reads); with ``[orders]`` on,
    the online orders' payments page opens the customers' names with ``orders.key``."""
    routes = [route for module in PAGES for route in module.ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    app = Starlette(routes=routes)
    operations = Operations(db, fleet) if fleet is not None else None
    if payments_desk is None and fleet is not None and fleet.orders.enabled:
        sealer = orders_sealer(Path(fleet.signing.dir))
        payments_desk = payments.PaymentsDesk(sealer, fleet.orders)
    app.state.console = Console(
        db, settings or ConsoleSettings(), clock, cost, live_every, operations, payments_desk
    )
    return app
