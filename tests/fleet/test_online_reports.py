"""The online orders' end-of-day report, from a day made with the real parts: drop
orders asked for and handed over (one the day before), bookings cancelled, released,
paid by a statement line and sold by a terminal's sale; the terminals' journals (an
online sale, ordinary sales, a refund, the Z report the terminal's own rules make)
through the fleet's ingest. Every figure is checked against a table worked out by hand,
online + other against the Z reports' net sales; the CSV holds what the page shows, the
PDF opens and holds the totals; a store manager sees their store only."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime
from random import Random
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.access import Viewer
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.console.period_report import Period
from fleet.console.period_report import build as build_period
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.orders import desk as orders
from fleet.orders.reconcile import upload
from fleet.orders.report import OnlineReport, csv_text
from fleet.orders.report import ShopFigures as OnlineReportFigures
from fleet.orders.statements import StatementLine
from terminal.core import fleet_protocol as fp
from terminal.core.clock import ManualClock
from terminal.core.online_orders import DeadlineRule
from terminal.core.reconcile import build_figures
from terminal.core.sealing import Sealer
from tests.fleet.conftest import BareTerminal, batch
from tests.fleet.console_client import signed_in as console_signed_in

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 27)
PASSWORD = "correct horse battery"
RULES = orders.DeskRules(DeadlineRule.parse("17:00"), JAKARTA)
PRICE, TEA = 150_000, "TEH-BTL"


def at(hour: int, minute: int = 0, day: int = 27) -> datetime:
    """A moment of the shop's day (Jakarta), aware."""
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA)


def sale(number: int, amount: int, tender: dict) -> dict:
    line = {"sku": TEA, "quantity": "1", "unit_price": amount, "amount": amount}
    return {
        "number": number,
        "cashier": 1,
        "currency": "IDR",
        "lines": [{**line, "tax_class": "PPN", "discount": 0}],
        "taxes": [],
        "net": amount,
        "tax": 0,
        "rounding": 0,
        "total": amount,
        "tenders": [{"kind": tender.pop("kind"), "amount": amount, **tender}],
        "shift": 1,
        "customer": None,
        "discount": 0,
        "points_earned": 0,
    }


def journal_day(terminal: BareTerminal, events: list[tuple[str, dict, datetime]]) -> list:
    """The events journaled, then the Z report as the terminal's rules make it."""
    made = []
    for kind, payload, moment in events:
        amount = payload["total"] if kind == "sale" else -payload.get("amount", 0)
        entry = terminal.journal.append(kind, payload, moment.astimezone(UTC), amount)
        made.append({"seq": entry.seq, "type": kind, "ts": moment.isoformat(), "payload": payload})
    figures = build_figures(made, JAKARTA).to_payload()
    terminal.journal.append("z_report", {"z_number": 1, **figures}, at(21).astimezone(UTC))
    return terminal.entries()


def ingest(db, terminal: BareTerminal, store: str) -> None:
    terminal.register(db, store=store, tz="Asia/Jakarta")
    entries = terminal.entries()
    answer = Ingest(db, clock=ManualClock(at(22))).raw(
        fp.topic(terminal.terminal_id, "up/journal"), fp.encode(batch(entries))
    )
    assert answer == fp.Ack(acked=entries[-1].seq)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    directory = tmp_path_factory.mktemp("online-report")
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    sealer = Sealer(os.urandom(32))

    def book(store: str, series: str, moment: datetime, drop: int | None = None):
        return orders.book(
            db,
            sealer,
            desk=store,
            sku=TEA,
            price=PRICE if store == "Jakarta 1" else 80_000,
            customer=orders.Customer("Dewi Lestari", "0812", "Jl. Melati 5"),
            rules=RULES,
            series=series,
            at=moment,
            actor="cs",
            rng=Random(moment.hour),
        )

    orders.receive(db, TEA, "WH", 10, at(7, 0, day=26), "wh")
    orders.receive(db, TEA, "Jakarta 1", 2, at(7, 0, day=26), "wh")
    orders.receive(db, TEA, "Bandung", 1, at(7, 0, day=26), "wh")
    # the day before: Bandung asks at 23:30 (still the 26th in Jakarta), handed the 27th
    d0 = orders.request_drop(db, "Bandung", "WH", TEA, at(23, 30, day=26), "cs")
    orders.hand_over(db, d0, TEA, at(7, 5), "wh")
    d1 = orders.request_drop(db, "Jakarta 1", "WH", TEA, at(8, 10), "cs")
    orders.hand_over(db, d1, TEA, at(8, 20), "wh")
    d2 = orders.request_drop(db, "Jakarta 1", "WH", TEA, at(8, 30), "cs")
    orders.hand_over(db, d2, TEA, at(8, 40), "wh")
    orders.request_drop(db, "Jakarta 1", "WH", TEA, at(9, 0), "cs")  # still waiting
    d4 = orders.request_drop(db, "Bandung", "WH", TEA, at(9, 10), "cs")
    orders.hand_over(db, d4, TEA, at(9, 15), "wh")
    cancelled = orders.book(
        db,
        sealer,
        desk="Jakarta 1",
        sku=TEA,
        price=PRICE,
        customer=orders.Customer("Budi", "", "Jl. 2"),
        rules=RULES,
        series="T01",
        at=at(9, 0),
        actor="cs",
        rng=Random(1),
        drop_order=d1,
    )
    released = book("Jakarta 1", "T01", at(9, 30))
    sold = book("Jakarta 1", "T01", at(10, 0))
    orders.cancel(db, cancelled.order_no, at(14), "cs")
    orders.take_back(db, d1, TEA, at(15), "wh")
    upload(
        db,
        "BCA 1234567890",
        [
            StatementLine(1, DAY, sold.due, "TRSF CR", key="line-paid"),
            StatementLine(2, DAY, 99_999, "SETORAN TUNAI", key="line-unmatched"),
            StatementLine(3, date(2026, 11, 26), 77_777, "KEMARIN", key="line-day-before"),
            StatementLine(4, DAY, -50_000, "BIAYA ADM", key="line-debit"),
        ],
        at(11),
    )
    orders.confirm_payment(db, sold.order_no, "line-paid", at(11, 30), "sri")
    assert orders.release_expired(db, at(17, 0).replace(second=1)) == [released.order_no]
    book("Bandung", "T02", at(18))  # open
    # the terminals' days: the online sale, ordinary sales, a refund, the Z report
    t01 = BareTerminal(directory / "T01", "T01")
    transfer = {"kind": "bank_transfer", "reference": sold.order_no}
    journal_day(
        t01,
        [
            ("sale", sale(1, 20_000, {"kind": "cash", "tendered": 20_000, "change": 0}), at(10)),
            ("sale", sale(2, sold.due, transfer), at(13)),
            ("sale", sale(3, 35_000, {"kind": "card"}), at(14, 30)),
            (
                "refund",
                {
                    "number": 1,
                    "sale": "T01-000001",
                    "amount": 5_000,
                    "tenders": {"cash": 5_000},
                    "lines": [],
                    "cashier": 1,
                    "shift": 1,
                    "reason": "broken",
                },
                at(15, 30),
            ),
        ],
    )
    ingest(db, t01, "Jakarta 1")
    t02 = BareTerminal(directory / "T02", "T02")
    journal_day(
        t02, [("sale", sale(1, 12_000, {"kind": "cash", "tendered": 12_000, "change": 0}), at(12))]
    )
    ingest(db, t02, "Bandung")
    assert [b.state for b in orders.paid_bookings(db, "Jakarta 1")] == []  # sold now
    for name, role, stores in (("sri", "finance", None), ("ani", "manager", ["Jakarta 1"])):
        accounts.add_account(
            db, name, role, PASSWORD, at(8), stores=stores, cost=accounts.FAST_TEST_COST
        )
    app = create_app(
        db,
        ConsoleSettings(),
        clock=lambda: at(23).astimezone(UTC).replace(tzinfo=None),
        cost=accounts.FAST_TEST_COST,
        payments_desk=PaymentsDesk(sealer, OrdersSettings(enabled=True)),
    )
    yield db, app, sold.due
    db.close()


def signed_in(app, name: str, **options) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False, **options)


def shown(html: str) -> dict[str, dict[str, str]]:
    """The page's table: {shop: {figure: value}} (the values as data, not formatted)."""
    table: dict[str, dict[str, str]] = {}
    for figure, row in re.findall(r'<tr[^>]*data-figure="([a-z_]+)">(.*?)</tr>', html, re.S):
        for shop, value in re.findall(r'data-shop="([^"]+)" data-value="([^"]*)"', row):
            table.setdefault(shop, {})[figure] = value
    return table


def expected(due: int) -> dict[str, dict[str, int | str]]:
    """The day worked out by hand."""
    jakarta = {
        "drops_requested": 3,
        "drops_handed": 2,
        "drops_returned": 1,
        "bookings": 3,
        "bookings_amount": 3 * PRICE,
        "cancelled": 1,
        "cancelled_amount": PRICE,
        "released": 1,
        "released_amount": PRICE,
        "lines_matched": 1,
        "lines_matched_amount": due,
        "online_sales": 1,
        "online_amount": due,
        "online_refunds": 0,
        "online_refunded": 0,
        "online_net": due,
        "other_sales": 2,
        "other_amount": 55_000,
        "other_refunds": 1,
        "other_refunded": 5_000,
        "other_net": 50_000,
        "net_sales": due + 50_000,
        "z_reports": 1,
        "z_net_sales": due + 50_000,
        "agrees": "yes",
    }
    bandung = {key: 0 for key in jakarta} | {
        "drops_requested": 1,
        "drops_handed": 2,
        "bookings": 1,
        "bookings_amount": 80_000,
        "other_sales": 1,
        "other_amount": 12_000,
        "other_net": 12_000,
        "net_sales": 12_000,
        "z_reports": 1,
        "z_net_sales": 12_000,
        "agrees": "yes",
    }
    overall = {
        key: (value + bandung[key] if isinstance(value, int) else value)
        for key, value in jakarta.items()
    }
    overall |= {"lines_unmatched": 1, "lines_unmatched_amount": 99_999}
    return {"Jakarta 1": jakarta, "Bandung": bandung, "ALL": overall}


def as_text(table: dict) -> dict[str, dict[str, str]]:
    return {shop: {k: str(v) for k, v in figures.items()} for shop, figures in table.items()}


def test_the_days_figures_agree_with_the_hand_made_table_and_the_z_reports(day):
    db, app, due = day
    client = signed_in(app, "sri")
    page = client.get("/online?period=day&date=2026-11-27")
    assert page.status_code == 200
    table = shown(page.text)
    assert as_text(expected(due)) == table
    assert ">Net sales: online + other<" in page.text and ">yes<" in page.text
    # and the console's period report (the terminals' sales rollups) says the same
    sales = build_period(db, Viewer("x", "admin", None), Period.parse("day", "", DAY), None)
    assert {s["store"]: str(s["net_sales"]) for s in sales.stores} == {
        shop: table[shop]["net_sales"] for shop in ("Jakarta 1", "Bandung")
    }
    # the CSV holds what the page shows
    got = client.get("/online/report.csv?period=day&date=2026-11-27")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    rows = {row.pop("store"): row for row in csv.DictReader(io.StringIO(got.text))}
    for shop, figures in table.items():
        assert rows[shop]["period"] == "2026-11-27" and rows[shop]["currency"] == "IDR"
        assert {k: rows[shop][k] for k in figures} == figures
    # the month holds the day (and the day before's line)
    month = shown(client.get("/online?period=month&date=2026-11").text)
    assert month["ALL"]["lines_unmatched"] == "2" and month["ALL"]["drops_requested"] == "5"
    assert month["ALL"]["net_sales"] == table["ALL"]["net_sales"]


def test_the_pdf_opens_and_holds_the_totals(day):
    _db, app, due = day
    got = signed_in(app, "sri").get("/online/report.pdf?period=day&date=2026-11-27")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(got.content)
    text = document[0].get_textpage().get_text_range()
    assert "Online orders: End of day 2026-11-27" in text
    net = f"Rp {due + 50_000 + 12_000:,}".replace(",", ".")
    assert net in text and "Rp 99.999" in text
    assert "Net sales: online + other" in text and "Agrees with the Z reports" in text


def test_a_manager_sees_their_store_only_and_bad_periods_are_404(day):
    _db, app, due = day
    manager = signed_in(app, "ani")
    table = shown(manager.get("/online?period=day&date=2026-11-27").text)
    jakarta = as_text(expected(due))["Jakarta 1"]
    assert set(table) == {"Jakarta 1", "ALL"}
    assert table["Jakarta 1"] == jakarta
    assert table["ALL"] == jakarta | {"lines_unmatched": "0", "lines_unmatched_amount": "0"}
    assert manager.get("/online?store=Bandung").status_code == 404
    assert manager.get("/online/report.csv?store=Bandung").status_code == 404
    assert "Bandung" not in manager.get("/online/report.csv?date=2026-11-27").text
    finance = signed_in(app, "sri")
    for query in ("period=year", "date=2026-13-45", "period=month&date=x"):
        assert finance.get(f"/online?{query}").status_code == 404, query


def test_shops_of_two_currencies_get_no_overall_column():
    """Tögrög and rupiah are never added together: each shop's column, no overall."""
    jakarta = OnlineReportFigures("Jakarta 1", "IDR", online_amount=57_300)
    ulaanbaatar = OnlineReportFigures("Ulaanbaatar 1", "MNT", online_amount=12_500)
    overall = OnlineReportFigures("", "IDR")
    overall.add(jakarta)
    overall.add(ulaanbaatar)
    mixed = OnlineReport(
        "day", date(2026, 11, 27), date(2026, 11, 27), [jakarta, ulaanbaatar], overall
    )
    assert mixed.columns == [jakarta, ulaanbaatar]
    rows = list(csv.DictReader(io.StringIO(csv_text(mixed))))
    assert [r["store"] for r in rows] == ["Jakarta 1", "Ulaanbaatar 1"]
    alone = OnlineReport("day", day, day, [jakarta], overall)
    assert alone.columns == [jakarta, overall]
