"""Stocktake (issue 19): a count opened in the console reaches two terminals of the store
as a job; supervisors count there blind, by the menu, the tea on two shelves at two
terminals, while the shop sells; the journals reach the fleet; the review compares each
product with the ledger at the moment it was counted (a sale before the count in both
figures, a sale after it in neither), lists what nobody counted, and posting the
differences (the approval) moves the ledger; a list that arrives after the posting is
kept and not posted. Bad input is refused with nothing changed."""

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
from fleet.inventory import ledger_sums, on_hand
from fleet.models import ConsoleAudit, StockMovement, Stocktake
from fleet.registry import register_terminal
from terminal.config import parse_settings
from terminal.core.errors import PosError
from terminal.services.bootstrap import build_terminal
from terminal.services.receiving import ReceivedLine
from terminal.store import fleet_jobs
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from terminal.ui.stocktake_menu import StockCountMenu
from tests.conftest import load_doc, with_open_shift
from tests.fleet.conftest import batch, to_entry
from tests.fleet.console_client import csrf_of
from tests.fleet.console_client import signed_in as console_signed_in
from tests.ui.test_menu_flows import ScriptedAsker, Shown

PASSWORD = "a long pass phrase"
STORE = "Toko Demo Sejahtera"
TEA, WATER, NOODLES = "8991002101111", "8993992000016", "8996960109476"
NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def shop(terminal, clock, tmp_path):
    """Two terminals of one store (T01, T02), a fleet database, the console."""
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path / "var2")
    doc["terminal"]["id"] = "T02"
    second = with_open_shift(
        build_terminal(parse_settings(doc), clock=clock, pin_params=FAST_TEST_PARAMS)
    )
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    for built in (terminal, second):
        register_terminal(
            db,
            built.pos.settings.terminal_id,
            store=STORE,
            group="g",
            public_key_pem=built.pos.journal.public_key_pem(),
        )
    accounts.add_account(db, "oki", "owner", PASSWORD, NOW, cost=accounts.FAST_TEST_COST)
    accounts.add_account(
        db, "ani", "manager", PASSWORD, NOW, stores=[STORE], cost=accounts.FAST_TEST_COST
    )
    app = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    return terminal.pos, second.pos, db, app


def signed_in(app, name):
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False)


def ingest(db, *terminals):
    for pos in terminals:
        entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
        Ingest(db).journal(pos.settings.terminal_id, batch(entries))


def job_arrives(pos, job_id: str, kind: str, text: str) -> None:
    """As the agent hands an app job over (``down/job``), then the app's clock polls."""
    fleet_jobs.add_job(pos.db, job_id, kind, text, pos.clock(), app=True, state="new")
    pos.fleet_jobs.poll(force=True)


def count(pos, *answers):
    ask = ScriptedAsker(pos, *answers)
    StockCountMenu(pos, ask).open()
    return ask


def test_a_count_with_sales_during_it_at_two_terminals_reviewed_and_posted(shop, clock):
    t01, t02, db, app = shop
    t01.sign_in("2", "2580")
    t01.receiving.receive([ReceivedLine(TEA, "24", 4_100), ReceivedLine(WATER, "10", 2_000)])
    t01.sign_in("1", "1357")
    t01.scan(TEA)
    t01.scan(TEA)
    t01.pay_cash(20_000)  # before the count: 22 teas on the books
    ingest(db, t01)

    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock/counts").text)
    opened = owner.post("/stock/counts/open", data={"csrf": token, "store": STORE})
    assert opened.status_code == 200  # no broker: opened, and the page says who was not told
    assert "No broker: the terminals were not told" in opened.text
    assert Stocktake.select().bind(db).get().state == "open"
    # the job the console would have sent, as each terminal's agent hands it over
    for pos in (t01, t02):
        job_arrives(pos, f"C1-open-{pos.settings.terminal_id}", "count_open", "C1")

    # blind: the tea on the front shelf at T01 (12), on the back shelf at T02 (8)
    t01.sign_in("2", "2580")
    clock.advance(600)
    ask = count(t01, TEA, "12", "", Shown.TAKE)
    assert ask.asked[-1].flags["lines"] == ["Teh Botol Sosro 450 ml  12"]
    assert not any("22" in str(a) for a in ask.asked)  # the books' figure is never shown
    clock.advance(300)
    t01.sign_in("1", "1357")
    t01.scan(TEA)
    t01.pay_cash(10_000)  # after the front shelf was counted, before the back one
    t02.sign_in("2", "2580")
    clock.advance(300)
    count(t02, TEA, "8", "", Shown.TAKE)
    clock.advance(300)
    t01.scan(TEA)
    t01.pay_cash(10_000)  # after the whole count: in neither figure
    ingest(db, t01, t02)

    # the water counted at T02, still offline: its list reaches the fleet after the posting
    count(t02, WATER, "9", "", Shown.TAKE)
    page = owner.get("/stock/counts/C1").text
    tea = re.search(r'<tr data-sku="TEH-BTL" data-adjustment="(-?\d+)"[^>]*>(.*?)</tr>', page, re.S)
    # the ledger at the tea's last count: 24 - 2 - 1 = 21; counted 12 + 8 = 20
    cells = re.findall(r'<td class="num">([^<]*)</td>', tea[2])
    assert cells[:4] == ["20", "21", "-1", "-1"]  # counted, expected, moved during, difference
    assert tea[1] == "-1000"
    water = re.search(r'<tr data-sku="AQUA-600"[^>]*data-uncounted>', page)
    assert water is not None  # in the count's scope, with stock, nobody counted it
    rows = list(csv.DictReader(io.StringIO(owner.get("/stock/counts/C1/count.csv").text)))
    assert {r["sku"]: (r["counted"], r["expected"], r["difference"]) for r in rows} == {
        "TEH-BTL": ("20", "21", "-1"),
        "AQUA-600": ("", "10", ""),
    }

    # a manager looks; posting is an owner's (or an admin's)
    manager = signed_in(app, "ani")
    assert "data-post" not in manager.get("/stock/counts/C1").text
    refused = manager.post("/stock/counts/C1/close", data={"csrf": csrf_of(page)})
    assert refused.status_code == 403
    # not closed yet: posting is refused, nothing moves
    early = owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "2"})
    assert early.status_code == 409 and "close the counting first" in early.text
    assert owner.post("/stock/counts/C1/close", data={"csrf": token}).status_code == 200
    # a list that arrived after the review was shown: look again before approving
    stale = owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "1"})
    assert stale.status_code == 409 and "look at it again" in stale.text
    posted = owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "2"})
    assert posted.status_code == 303
    adjustment = StockMovement.select().where(StockMovement.kind == "stocktake").bind(db).get()
    assert (adjustment.sku, adjustment.quantity, adjustment.reason) == (
        "TEH-BTL",
        -1000,
        "count C1",
    )
    # the shelf after: the count, less the sale after it
    assert on_hand(db, STORE)["TEH-BTL"].quantity == 19_000
    assert on_hand(db, STORE)["AQUA-600"].quantity == 10_000  # not counted: left as it was
    assert on_hand(db, STORE) == ledger_sums(db, STORE)
    assert Stocktake.select().bind(db).get().posted_by == "oki"

    # T02 back online: its late list is kept and shown, never posted by itself
    ingest(db, t02)
    again = owner.get("/stock/counts/C1").text
    assert re.search(r'data-late="(\d+)"', again)[1] == "1" and 'data-state="posted"' in again
    assert "data-uncounted" in again  # the review stays as it was posted
    assert on_hand(db, STORE)["AQUA-600"].quantity == 10_000
    assert (
        owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "3"}).status_code == 409
    )
    # the count closed at the terminals: nothing more is counted for it
    for pos in (t01, t02):
        job_arrives(pos, f"C1-close-{pos.settings.terminal_id}", "count_close", "C1")
    assert count(t02).said == [("No count is open: the console opens one (Stock > Counts)", False)]
    t01.sign_in("2", "2580")
    with pytest.raises(PosError, match="not open"):
        t01.stocktake.count("C1", [(TEA, "3")])


def test_a_count_of_some_categories_refuses_other_products_and_bad_quantities(shop, clock):
    t01, _t02, db, app = shop
    job_arrives(t01, "C7-open-T01", "count_open", "C7:noodles")
    t01.sign_in("1", "1357")
    assert count(t01).said == [("Counting stock is a supervisor's", True)]
    t01.sign_in("2", "2580")
    ask = count(t01, TEA, NOODLES, "lots", "-2", "0", "", Shown.TAKE)
    assert ask.asked[0].problems == ["Teh Botol Sosro 450 ml is not in this count (noodles)"]
    assert ask.asked[1].title == "Indomie Goreng: how many on the shelf (pieces)?"
    assert ask.asked[1].problems == ["lots is not a quantity", "-2 is not a quantity"]
    (payload,) = [e["payload"] for e in read_entries(t01.db, types=("stock_count",))]
    assert payload["count"] == "C7"
    assert payload["lines"] == [{"sku": "INDOMIE-G", "quantity": "0"}]  # an empty shelf
    # a job that names no count is refused, and nothing opens
    job_arrives(t01, "bad-1", "count_open", "drinks")
    assert fleet_jobs.job(t01.db, "bad-1").state == "refused"
    assert [c.id for c in t01.stocktake.open_counts()] == ["C7"]

    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock/counts").text)
    first = owner.post("/stock/counts/open", data={"csrf": token, "store": STORE})
    assert first.status_code == 200
    second = owner.post("/stock/counts/open", data={"csrf": token, "store": STORE})
    assert second.status_code == 409 and "not posted or cancelled yet" in second.text
    bad = owner.post(
        "/stock/counts/open", data={"csrf": token, "store": "Toko Lain", "category": "x"}
    )
    assert bad.status_code == 404  # a store the viewer does not see: as if it did not exist
    assert owner.post("/stock/counts/C1/cancel", data={"csrf": token}).status_code == 200
    assert Stocktake.select().bind(db).get().state == "cancelled"
    assert owner.get("/stock/counts/C99").status_code == 404
    assert owner.get("/stock/counts/nonsense").status_code == 404


def test_a_count_is_not_posted_while_a_terminal_of_the_store_has_not_sent_its_sales(shop):
    """T02 never sent its journal: its sales during the count may be missing from the
    books, and posting would count them twice. Refused, saying which terminal; posted
    only when the owner says the terminal is broken or gone (audited)."""
    t01, _t02, db, app = shop
    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock/counts").text)
    owner.post("/stock/counts/open", data={"csrf": token, "store": STORE})
    job_arrives(t01, "C1-open-T01", "count_open", "C1")
    t01.sign_in("2", "2580")
    count(t01, TEA, "4", "", Shown.TAKE)
    ingest(db, t01)
    assert owner.post("/stock/counts/C1/close", data={"csrf": token}).status_code == 200
    page = owner.get("/stock/counts/C1").text
    assert "T02: last heard from never" in page
    refused = owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "1"})
    assert refused.status_code == 409 and "T02: last heard from never" in refused.text
    assert StockMovement.select().where(StockMovement.kind == "stocktake").bind(db).count() == 0
    anyway = owner.post("/stock/counts/C1/post", data={"csrf": token, "lines": "1", "anyway": "1"})
    assert anyway.status_code == 303
    assert on_hand(db, STORE)["TEH-BTL"].quantity == 4_000
    audit = ConsoleAudit.select().where(ConsoleAudit.action == "stock count post").bind(db).get()
    assert "not waiting for every terminal" in audit.detail
