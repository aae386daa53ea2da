"""The console's margins page (issue 19): a real terminal's sales and refunds ingested;
the page's table per product against the hand-computed margins of
``tests/fleet/test_margins.py``, the chart's bars and the CSV equal to it, the uncosted
line counted, a manager kept to their stores, bad filters refused."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.registry import register_terminal
from tests.fleet.conftest import batch
from tests.fleet.console_client import signed_in as console_signed_in
from tests.fleet.test_margins import SHOP, sell_and_refund

PASSWORD = "a long pass phrase"
NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def app(terminal, tmp_path):
    pos = terminal.pos
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    register_terminal(db, "T01", store=SHOP, group="g", public_key_pem=pos.journal.public_key_pem())
    sales, refunds = sell_and_refund(pos)
    Ingest(db).journal("T01", batch(sales))
    Ingest(db).journal("T01", batch(refunds))
    for name, role, stores in (("oki", "owner", None), ("ani", "manager", ["Bandung 2"])):
        accounts.add_account(
            db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    return create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)


def signed_in(app, name):
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False)


def test_an_owner_reads_the_months_margin_per_product_with_its_chart_and_csv(app):
    owner = signed_in(app, "oki")
    page = owner.get("/margins", params={"period": "month", "date": "2026-11"}).text
    table = dict(re.findall(r'<tr data-key="([^"]+)" data-margin="(-?\d+)">', page))
    assert table == {"TEH-BTL": "3420", "AQUA-600": "0", "GULA-1KG": "-14000"}
    assert re.search(r'data-total-margin="(-?\d+)"', page)[1] == "-10580"
    assert re.search(r'data-uncosted="(\d+)"', page)[1] == "1"  # the water, never received
    bars = dict(re.findall(r'data-key="([^"]*)" data-value="(-?[\d.]+)"', page))
    assert bars == table  # the chart draws the table's margins
    assert "Rp 3.420" in page and "17.3" in page and "Rp 3.153" in page  # its revenue
    rows = list(
        csv.DictReader(io.StringIO(owner.get("/margins.csv?period=month&date=2026-11").text))
    )
    assert {r["product"]: r["margin"] for r in rows} == table
    tea = next(r for r in rows if r["product"] == "TEH-BTL")
    assert (tea["quantity"], tea["net"], tea["cost"], tea["margin_percent"]) == (
        "4",
        "19820",
        "16400",
        "17.3",
    )
    by_store = owner.get("/margins", params={"by": "store", "date": "2026-11"}).text
    assert re.findall(r'<tr data-key="([^"]+)" data-margin="(-?\d+)">', by_store) == [
        (SHOP, "-10580")
    ]
    by_day = owner.get("/margins", params={"period": "day", "date": "2026-11-23", "by": "day"})
    assert 'data-key="2026-11-23" data-margin="-10580"' in by_day.text
    # an earlier month: nothing sold
    assert "Nothing sold in this period." in owner.get("/margins?date=2026-10").text


def test_a_manager_sees_only_their_stores_and_bad_filters_are_refused(app):
    manager = signed_in(app, "ani")
    assert "data-margin" not in manager.get("/margins?date=2026-11").text
    assert manager.get("/margins", params={"store": SHOP}).status_code == 404
    assert manager.get("/margins.csv", params={"store": SHOP}).status_code == 404
    owner = signed_in(app, "oki")
    for params in ({"by": "colour"}, {"date": "2026-13"}, {"period": "year"}, {"date": "soon"}):
        assert owner.get("/margins", params=params).status_code == 404
