"""The console's trends page (issue 19), against a small hand-computed table written
straight into the rollups and the sales: the heat map's Saturday 19:00, growth against the
previous period and 52 weeks earlier, the movers ranked by takings (66 kilos of ice take
less than 15 bottles of tea) with their names, tender shares adding up to 100 %, the
members' aggregates, each chart's CSV equal to what the chart draws; a manager sees only
their stores and no member ids; currencies never added together; bad filters answered
400/404 with a message. And the SVG charts themselves: well-formed XML, no inline style
(the console's CSP refuses it), names escaped, negative bars left of zero."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from markupsafe import Markup
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.charts import Bar, bar_chart, heat_map, series_chart
from fleet.db import connect, create_tables
from fleet.models import ConfigDocument, PaymentDay, ProductDay, Sale, SalesHour, Terminal
from terminal.core import signed_config as sc
from tests.fleet.console_client import signed_in as console_signed_in

PASSWORD = "a long pass phrase"
NOW = datetime(2026, 11, 23, 5, 0)  # Monday 12:00 in Jakarta (naive UTC, the console's clock)
SARI, BUDI, UB = "Toko Sari", "Toko Budi", "Ulaanbaatar 1"
SAT, SAT_BEFORE, MON = date(2026, 11, 21), date(2026, 11, 14), date(2026, 11, 16)
# the default period: 2026-10-27 .. 2026-11-23; the previous one 2026-09-29 .. 2026-10-26
PREV_SAT, PREV_DAY = date(2026, 10, 24), date(2026, 10, 10)
YEAR_SAT = date(2025, 11, 22)  # 364 days before SAT: a Saturday too
TEA, WATER, COFFEE, BACK = "TEH-BTL", "AQUA-600", "KOPI-1", "RETUR-1"
ICE, BEEF = "ES-KG", "DAGING-KG"  # sold by weight: quantities in kilograms
NAMES = {TEA: "Teh Botol", WATER: "Aqua 600 ml", COFFEE: "Kopi <Susu> & Gula", BACK: "Retur"}
NAMES |= {ICE: "Es batu (kg)", BEEF: "Daging sapi (kg)"}
CATEGORIES = {ICE: "fresh", BEEF: "fresh"}  # the others: drinks

# (terminal, store, currency, business day, hour, sales, paid)
HOURS = [
    ("A1", SARI, "IDR", SAT, 19, 3, 120_000),
    ("A2", SARI, "IDR", SAT, 19, 2, 80_000),
    ("A1", SARI, "IDR", SAT_BEFORE, 19, 1, 50_000),
    ("A1", SARI, "IDR", MON, 9, 2, 30_000),
    ("B1", BUDI, "IDR", SAT, 19, 4, 100_000),
    ("M1", UB, "MNT", SAT, 19, 5, 9_000_000),  # never added to the rupiah
    ("A1", SARI, "IDR", PREV_SAT, 19, 4, 200_000),
    ("B1", BUDI, "IDR", PREV_DAY, 12, 2, 50_000),
    ("A1", SARI, "IDR", YEAR_SAT, 19, 2, 175_000),
]
# hand-computed: rupiah stores 380.000 against 250.000 (+52.0 %), 175.000 a year before
# (+117.1 %); Toko Sari alone 280.000 against 200.000 (+40.0 %); Saturday 19:00 of the
# rupiah stores 10 sales, 350.000 (Toko Sari alone 6 sales, 250.000)

# (store, business day, sku, quantity_milli, amount, returned_milli, returned_amount):
# tea Rp 5.000 a bottle, water 3.000, coffee 8.000, ice Rp 500 a kilo, beef 140.000 a kilo
PRODUCTS = [
    (SARI, SAT, TEA, 12_000, 60_000, 1_000, 5_000),  # net 11, Rp 55.000; 40.000 before
    (SARI, SAT, WATER, 5_000, 15_000, 0, 0),  # net 5, Rp 15.000; 27.000 before
    (SARI, SAT, BACK, 1_000, 10_000, 2_000, 20_000),  # net -1, -Rp 10.000: more came back
    (BUDI, SAT, TEA, 4_000, 20_000, 0, 0),
    (BUDI, SAT, ICE, 66_102, 33_051, 0, 0),  # the most kilos, less money than the teas
    (BUDI, SAT, BEEF, 1_250, 175_000, 0, 0),  # 1.25 kg: the fewest, the most money
    (UB, SAT, TEA, 50_000, 150_000, 0, 0),  # tögrög: 3,000 ₮ a bottle
    (UB, SAT, BEEF, 123_456, 3_456_768, 0, 0),  # 28,000 ₮ a kilo
    (SARI, PREV_SAT, TEA, 8_000, 40_000, 0, 0),
    (SARI, PREV_SAT, WATER, 9_000, 27_000, 0, 0),
    (SARI, PREV_SAT, COFFEE, 3_000, 24_000, 0, 0),  # sold before, not now: among the worst
    (BUDI, PREV_DAY, BEEF, 500, 70_000, 0, 0),
]
# movers, hand-computed: Toko Sari best tea 55.000 (+15.000, +37.5 %, 11), water 15.000
# (-12.000, -44.4 %, 5); worst the returns -10.000 (-1), coffee 0 (-24.000, -100.0 %).
# Both rupiah stores: beef 175.000 (+105.000, +150.0 %, 1.25 kg), tea 75.000 (15), ice
# 33.051 (66.102 kg) best; the returns, coffee, water worst. By quantity the ice would lead
# and the beef be among the slowest.
# (terminal, store, kind, paid, payments): Toko Sari 64.3 % cash, 32.1 % card, 3.6 % QRIS
PAYMENTS = [
    ("A1", SARI, "cash", 180_000, 5),
    ("A1", SARI, "card", 90_000, 2),
    ("A2", SARI, "qris", 10_000, 1),
    ("B1", BUDI, "cash", 100_000, 4),
    ("M1", UB, "cash", 9_000_000, 5),
]
# (store, customer, business day, paid): members of Toko Sari in the period
SALES = [
    *[(SARI, "M-001", date(2026, 11, d), p) for d, p in ((2, 50_000), (9, 30_000), (21, 40_000))],
    (SARI, "M-002", date(2026, 11, 21), 20_000),
    *[(SARI, "M-003", date(2026, 11, d), 10_000) for d in (7, 14)],
    *[(SARI, "M-004", date(2026, 11, d), 5_000) for d in (1, 3, 5, 10, 12, 20)],
    *[(SARI, None, date(2026, 11, 21), 25_000) for _ in range(4)],
    (SARI, "M-005", date(2026, 9, 1), 10_000),  # lapsed: bought before, not in the period
    (SARI, "M-005", date(2026, 10, 1), 70_000),
    (SARI, "M-001", date(2026, 10, 20), 9_000),  # before, and again in the period
    (SARI, "M-006", date(2026, 7, 1), 9_000),  # longer ago than 90 days: not lapsed
    (BUDI, "B-777", date(2026, 10, 5), 15_000),  # Toko Budi's lapsed member
]
# Toko Sari's members: 4 (visits 3, 1, 2, 6), 12 visits, 190.000: 15.833 a visit; the
# others 4 visits, 100.000: 25.000; lapsed M-005 (last 2026-10-01, 80.000)


def sign_catalogue(db) -> None:
    """A signed fleet document naming the products (the movers show their names)."""
    products = [
        {"sku": s, "name": n, "category": CATEGORIES.get(s, "drinks")} for s, n in NAMES.items()
    ]
    issued = NOW.replace(tzinfo=UTC)
    payload = sc.config_payload(
        sc.Scope("fleet"), 1, issued, issued + timedelta(days=30), {"products": products}
    )
    envelope = sc.sign(Ed25519PrivateKey.generate(), payload)
    ConfigDocument.insert(
        scope="fleet", version=1, envelope=envelope.decode(), sha256="0" * 64, key_id="k",
        created_at=NOW,
    ).execute(db)  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('trends') / 'fleet.db'}")
    create_tables(db)
    sign_catalogue(db)
    zones = {SARI: "Asia/Jakarta", BUDI: "Asia/Jakarta", UB: "Asia/Ulaanbaatar"}
    for terminal, store in (("A1", SARI), ("A2", SARI), ("B1", BUDI), ("M1", UB)):
        Terminal.insert(
            id=terminal, store=store, group="g", timezone=zones[store], registered_at=NOW
        ).execute(db)
    SalesHour.insert_many(
        [
            {"terminal_id": t, "store": s, "currency": c, "business_day": d, "hour": h}
            | {"sales": n, "paid": p, "total": p}
            for t, s, c, d, h, n, p in HOURS
        ]
    ).execute(db)
    ProductDay.insert_many(
        [
            {"store": s, "business_day": d, "sku": k, "quantity_milli": q, "amount": a}
            | {"returned_milli": rq, "returned_amount": ra}
            for s, d, k, q, a, rq, ra in PRODUCTS
        ]
    ).execute(db)
    PaymentDay.insert_many(
        [
            {"terminal_id": t, "business_day": SAT, "store": s, "kind": k, "paid": p}
            | {"payments": n}
            for t, s, k, p, n in PAYMENTS
        ]
    ).execute(db)
    Sale.insert_many(
        [
            {"terminal_id": "A1" if store == SARI else "B1", "seq": seq, "epoch": 0}
            | {"store": store, "number": seq, "label": f"S{seq}", "customer": customer}
            | {"ts": datetime.combine(day, datetime.min.time()), "business_day": day}
            | {"currency": "IDR", "total": paid, "paid": paid}
            for seq, (store, customer, day, paid) in enumerate(SALES, start=1)
        ]
    ).execute(db)
    for name, role, stores in (
        ("oki", "owner", None),
        ("ani", "manager", [SARI]),
        ("adi", "admin", None),
        ("aud", "auditor", None),
        ("fin", "finance", None),
        ("wh", "warehouse", None),
    ):
        accounts.add_account(
            db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    yield create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    db.close()


def signed_in(app, name: str) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False)


@pytest.fixture(scope="module")
def owner(app):
    return signed_in(app, "oki")


@pytest.fixture(scope="module")
def manager(app):
    return signed_in(app, "ani")


# -- reading the page ------------------------------------------------------------------


def svgs(page: str, chart: str) -> list[ET.Element]:
    """The SVG elements of the figure ``data-chart="chart"`` (the page's own markup)."""
    figure = re.search(rf'<figure class="trend" data-chart="{chart}">(.*?)</figure>', page, re.S)
    assert figure, chart
    return [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", figure[1], re.S)]


def marks(page: str, chart: str, tag: str = "rect") -> list[ET.Element]:
    """The chart's marks that carry a figure (data-value)."""
    return [
        e
        for svg in svgs(page, chart)
        for e in svg.iter(f"{{{SVG}}}{tag}")
        if "data-value" in e.attrib
    ]


SVG = "http://www.w3.org/2000/svg"


def figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}" data-value="([^"]*)"', page)[1]


def csv_rows(client: TestClient, chart: str, **params) -> list[dict]:
    answer = client.get("/trends.csv", params={"chart": chart, **params})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


# -- the page --------------------------------------------------------------------------


def test_the_heat_map_shows_saturday_evening_as_computed_and_its_csv_is_the_chart(owner):
    page = owner.get("/trends")
    assert page.status_code == 200
    assert 'data-period="2026-10-27/2026-11-23"' in page.text  # 28 days up to today
    cells = {
        (int(c.get("data-row")), int(c.get("data-column"))): c for c in marks(page.text, "heatmap")
    }
    assert len(cells) == 7 * 24
    saturday_19 = cells[(5, 19)]
    assert saturday_19.get("data-value") == "350000"
    assert saturday_19.find(f"{{{SVG}}}title").text == "Saturday 19:00: Rp 350.000, 10 sales"
    assert cells[(0, 9)].get("data-value") == "30000"  # Monday 09:00
    rows = csv_rows(owner, "heatmap")
    assert len(rows) == 168
    assert {(int(r["weekday"]) - 1, int(r["hour"])): r["paid"] for r in rows} == {
        key: c.get("data-value") for key, c in cells.items()
    }
    saturday = next(r for r in rows if r["weekday"] == "6" and r["hour"] == "19")
    assert (saturday["sales"], saturday["paid"], saturday["currency"]) == ("10", "350000", "IDR")


def test_growth_against_the_previous_period_and_52_weeks_earlier(owner, manager):
    page = owner.get("/trends").text
    assert (figure(page, "paid"), figure(page, "compared_paid")) == ("380000", "250000")
    assert figure(page, "growth_percent") == "52.0" and "+52.0 %" in page
    columns = marks(page, "growth")
    points = marks(page, "growth", "circle")
    rows = csv_rows(owner, "growth")
    assert len(rows) == len(columns) == len(points) == 28
    assert [(r["day"], r["paid"]) for r in rows] == [
        (c.get("data-key"), c.get("data-value")) for c in columns
    ]
    assert [r["compared_paid"] for r in rows] == [p.get("data-value") for p in points]
    assert sum(int(r["paid"]) for r in rows) == 380_000
    saturday = next(r for r in rows if r["day"] == "2026-11-21")
    assert (saturday["paid"], saturday["compared_day"], saturday["compared_paid"]) == (
        "300000",
        "2026-10-24",
        "200000",
    )

    year = owner.get("/trends", params={"compare": "year"}).text
    assert 'data-compared="2025-10-28/2025-11-24"' in year
    assert figure(year, "compared_paid") == "175000" and figure(year, "growth_percent") == "117.1"
    mine = manager.get("/trends").text  # Toko Sari's only
    assert (figure(mine, "paid"), figure(mine, "growth_percent")) == ("280000", "40.0")


def test_a_long_period_is_drawn_by_week_and_adds_up_the_same(owner):
    params = {"from": "2026-01-01", "to": "2026-11-23"}  # 327 days: 47 weeks
    page = owner.get("/trends", params=params).text
    rows = csv_rows(owner, "growth", **params)
    assert len(rows) == len(marks(page, "growth")) == 47
    assert [r["day"] for r in rows[:2]] == ["2026-01-01", "2026-01-08"]
    assert sum(int(r["paid"]) for r in rows) == int(figure(page, "paid")) == 630_000
    assert sum(int(r["compared_paid"]) for r in rows) == 175_000  # 2025-02-08 .. 2025-12-31
    basket = csv_rows(owner, "basket", **params)
    assert sum(int(r["sales"]) for r in basket) == 18


def test_a_fleet_without_sales_shows_an_empty_page(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    accounts.add_account(db, "oki", "owner", PASSWORD, NOW, cost=accounts.FAST_TEST_COST)
    app = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    client = signed_in(app, "oki")
    page = client.get("/trends")
    assert page.status_code == 200 and figure(page.text, "paid") == "0"
    for chart in ("heatmap", "growth", "movers", "basket", "tenders", "members"):
        assert client.get("/trends.csv", params={"chart": chart}).status_code == 200
    assert csv_rows(client, "tenders") == [] and len(csv_rows(client, "heatmap")) == 168


def beside(page: str, chart: str) -> list[str]:
    """The figures written beside the chart's bars, in the bars' order."""
    found = []
    for svg in svgs(page, chart):
        children = list(svg)
        found += [
            children[i + 1].text
            for i, e in enumerate(children)
            if e.tag == f"{{{SVG}}}rect" and "data-value" in e.attrib
        ]
    return found


MOVER_COLUMNS = ["group", "rank", "sku", "name", "category", "takings", "compared_takings"]
MOVER_COLUMNS += ["change", "change_percent", "quantity"]


def test_the_movers_are_ranked_by_takings_with_what_stopped_selling_among_the_worst(owner):
    page = owner.get("/trends", params={"store": SARI}).text
    best = marks(page, "movers-best")
    worst = marks(page, "movers-worst")
    # four products: two and two
    assert [(b.get("data-key"), b.get("data-value")) for b in best] == [
        (TEA, "55000"),
        (WATER, "15000"),
    ]
    assert [(w.get("data-key"), w.get("data-value")) for w in worst] == [
        (BACK, "-10000"),
        (COFFEE, "0"),
    ]
    assert "Teh Botol" in svgs(page, "movers-best")[0].find(f".//{{{SVG}}}text").text
    assert beside(page, "movers-best") == ["Rp 55.000 · 11", "Rp 15.000 · 5"]
    assert beside(page, "movers-worst") == ["-Rp 10.000 · -1", "Rp 0 · 0"]
    assert "Kopi &lt;Susu&gt; &amp; Gula" in page  # escaped, in the chart and the table
    answer = owner.get("/trends.csv", params={"chart": "movers", "store": SARI}).text
    assert answer.splitlines()[0] == ",".join(MOVER_COLUMNS)
    rows = csv_rows(owner, "movers", store=SARI)
    assert [list(r.values()) for r in rows] == [
        ["best", "1", TEA, "Teh Botol", "drinks", "55000", "40000", "15000", "37.5", "11"],
        ["best", "2", WATER, "Aqua 600 ml", "drinks", "15000", "27000", "-12000", "-44.4", "5"],
        ["worst", "1", BACK, "Retur", "drinks", "-10000", "0", "-10000", "", "-1"],
        [
            "worst",
            "2",
            COFFEE,
            "Kopi <Susu> & Gula",
            "drinks",
            "0",
            "24000",
            "-24000",
            "-100.0",
            "0",
        ],
    ]
    assert [(r["sku"], int(r["takings"])) for r in rows] == [
        (m.get("data-key"), int(m.get("data-value"))) for m in best + worst
    ]
    table = re.findall(r'<tr data-sku="([^"]+)">.*?data-takings="([^"]*)"', page)
    assert table == [(r["sku"], r["takings"]) for r in rows]
    assert "+Rp 15.000 (+37.5 %)" in page and "-Rp 24.000 (-100.0 %)" in page


def test_a_kilo_is_not_a_piece_the_movers_compare_money(owner):
    """Ice: 66.102 kg, less money than 15 bottles of tea; beef: 1.25 kg, the most money.
    By quantity the ice would lead and the beef be among the slowest."""
    page = owner.get("/trends").text  # both rupiah stores: never the tögrög's teas
    rows = csv_rows(owner, "movers")
    assert [(r["group"], r["sku"], r["takings"], r["quantity"]) for r in rows] == [
        ("best", BEEF, "175000", "1.25"),
        ("best", TEA, "75000", "15"),
        ("best", ICE, "33051", "66.102"),
        ("worst", BACK, "-10000", "-1"),
        ("worst", COFFEE, "0", "0"),
        ("worst", WATER, "15000", "5"),
    ]
    ice, tea = next(r for r in rows if r["sku"] == ICE), next(r for r in rows if r["sku"] == TEA)
    assert float(ice["quantity"]) > float(tea["quantity"])  # more kilos than bottles ...
    assert rows.index(ice) > rows.index(tea)  # ... and still ranked below the tea
    beef = rows[0]
    assert (beef["category"], beef["compared_takings"], beef["change"]) == (
        "fresh",
        "70000",
        "105000",
    )
    assert beef["change_percent"] == "150.0" and ice["change_percent"] == ""
    drawn = marks(page, "movers-best") + marks(page, "movers-worst")
    assert [(m.get("data-key"), m.get("data-value")) for m in drawn] == [
        (r["sku"], r["takings"]) for r in rows
    ]
    assert beside(page, "movers-best") == [
        "Rp 175.000 · 1.25",
        "Rp 75.000 · 15",
        "Rp 33.051 · 66.102",
    ]
    # tögrög: the quantity is left out where it would not fit beside the bar
    tugrik = owner.get("/trends", params={"currency": "MNT"}).text
    assert beside(tugrik, "movers-best") == ["3,456,768 ₮"]
    assert beside(tugrik, "movers-worst") == ["150,000 ₮ · 50"]
    assert [(r["sku"], r["quantity"]) for r in csv_rows(owner, "movers", currency="MNT")] == [
        (BEEF, "123.456"),
        (TEA, "50"),
    ]
    assert "123.456" in tugrik  # in the table


def test_basket_and_items_per_basket(owner):
    page = owner.get("/trends", params={"store": SARI}).text
    # 280.000 in 8 sales; 18 items (12 + 5 + 1 sold) in those 8 sales
    assert (figure(page, "average_basket"), figure(page, "items_per_basket")) == ("35000", "2.25")
    rows = csv_rows(owner, "basket", store=SARI)
    assert [r["average_basket"] for r in rows] == [
        c.get("data-value") for c in marks(page, "basket-average")
    ]
    assert [float(r["items_per_basket"]) for r in rows] == [
        float(c.get("data-value")) for c in marks(page, "basket-items")
    ]
    saturday = next(r for r in rows if r["day"] == "2026-11-21")
    assert (saturday["sales"], saturday["average_basket"], saturday["items_per_basket"]) == (
        "5",
        "40000",
        "3.6",
    )


def test_tender_shares_add_up_to_100(owner):
    page = owner.get("/trends", params={"store": SARI}).text
    bars = marks(page, "tenders")
    rows = csv_rows(owner, "tenders", store=SARI)
    assert [(r["kind"], r["share_percent"]) for r in rows] == [
        ("cash", "64.3"),
        ("card", "32.1"),
        ("qris", "3.6"),
    ]
    assert [(b.get("data-key"), float(b.get("data-value"))) for b in bars] == [
        (r["kind"], float(r["share_percent"])) for r in rows
    ]
    assert sum(round(float(b.get("data-value")) * 10) for b in bars) == 1000
    both = csv_rows(owner, "tenders")  # rupiah stores: cash 280.000 of 380.000
    assert [(r["kind"], r["paid"], r["share_percent"]) for r in both] == [
        ("cash", "280000", "73.7"),
        ("card", "90000", "23.7"),
        ("qris", "10000", "2.6"),
    ]
    assert sum(round(float(r["share_percent"]) * 10) for r in both) == 1000


def test_members_aggregates_for_all_ids_only_for_owners(owner, manager):
    expected = {
        "members": "4",
        "visits_1": "1",
        "visits_2": "1",
        "visits_3-5": "1",
        "visits_6+": "1",
        "member_visits": "12",
        "member_paid": "190000",
        "member_average_spend": "15833",
        "other_visits": "4",
        "other_paid": "100000",
        "other_average_spend": "25000",
        "lapsed_members": "1",
    }
    for client in (owner, manager):
        page = client.get("/trends", params={"store": SARI}).text
        rows = {r["figure"]: r["value"] for r in csv_rows(client, "members", store=SARI)}
        assert rows == expected
        drawn = {m.get("data-key"): m.get("data-value") for m in marks(page, "members-visits")}
        drawn |= {m.get("data-key"): m.get("data-value") for m in marks(page, "members-spend")}
        assert drawn == {
            k: v for k, v in expected.items() if k.startswith(("visits", "member_a", "other_a"))
        }
        for name in ("members", "member_average_spend", "other_average_spend", "lapsed_members"):
            assert figure(page, name) == expected[name]
    owners = owner.get("/trends", params={"store": SARI}).text
    assert re.findall(r'<tr data-member="([^"]+)">', owners) == ["M-005"]
    assert "2026-10-01" in owners and "Rp 80.000" in owners
    everyone = owner.get("/trends").text  # both rupiah stores: Toko Budi's lapsed member too
    assert re.findall(r'<tr data-member="([^"]+)">', everyone) == ["M-005", "B-777"]
    managers = manager.get("/trends").text
    assert "data-no-ids" in managers
    assert not re.search(r"M-00\d|B-777", managers)
    assert not re.search(r"M-00\d|B-777", manager.get("/trends.csv?chart=members").text)


def test_a_manager_sees_only_their_stores(app, manager):
    page = manager.get("/trends").text
    assert BUDI not in page and UB not in page
    assert 'data-value="250000"' in page  # Saturday 19:00 of Toko Sari alone
    for params in ({"store": BUDI}, {"store": UB}, {"currency": "MNT"}, {"store": "nowhere"}):
        assert manager.get("/trends", params=params).status_code == 404
        assert manager.get("/trends.csv", params={"chart": "growth", **params}).status_code == 404
    for name in ("aud", "fin", "wh"):  # roles that do not see trends
        assert signed_in(app, name).get("/trends").status_code == 404
    admin = signed_in(app, "adi").get("/trends").text
    assert '<tr data-member="M-005">' in admin
    assert (
        'href="/trends"' in page
        and 'href="/trends"' not in signed_in(app, "aud").get("/reports").text
    )


def test_currencies_are_never_added_together(owner):
    page = owner.get("/trends").text  # the first currency's stores: the rupiah ones
    assert "data-currencies" in page and '<option value="MNT"' in page
    assert figure(page, "paid") == "380000"
    assert "9.000.000" not in page and "₮" not in page
    tugrik = owner.get("/trends", params={"currency": "MNT"}).text
    assert figure(tugrik, "paid") == "9000000"
    assert csv_rows(owner, "tenders", currency="MNT") == [
        {"kind": "cash", "currency": "MNT", "payments": "5", "paid": "9000000"}
        | {"share_percent": "100.0"}
    ]
    one = owner.get("/trends", params={"store": UB}).text
    assert figure(one, "paid") == "9000000"
    heat = csv_rows(owner, "heatmap", currency="IDR")
    assert sum(int(r["paid"]) for r in heat) == 380_000 and {r["currency"] for r in heat} == {"IDR"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "is not a date"),
        ({"to": "yesterday"}, "is not a date"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "ends before it starts"),
        ({"from": "2024-01-01", "to": "2026-11-01"}, "at most 366 days"),
        ({"compare": "decade"}, "Compare with"),
        ({"from": "1999-12-01", "to": "1999-12-31"}, "A period from 2000-01-01"),
    ],
)
def test_bad_filters_get_a_clear_400(owner, params, message):
    page = owner.get("/trends", params=params)
    assert page.status_code == 400 and message in page.text and "data-problem" in page.text
    download = owner.get("/trends.csv", params={"chart": "growth", **params})
    assert download.status_code == 400 and message in download.text


def test_an_unknown_chart_is_404_with_the_charts_named(owner):
    answer = owner.get("/trends.csv", params={"chart": "pie"})
    assert answer.status_code == 404 and "heatmap, growth, movers" in answer.text
    assert owner.get("/trends.csv").status_code == 404


def test_the_page_keeps_to_the_content_security_policy(owner):
    page = owner.get("/trends")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"\sstyle=|<style", page.text)


# -- the charts ------------------------------------------------------------------------


def test_charts_are_svg_without_inline_style_and_with_text_escaped():
    name = 'Kopi <Susu> & "Gula"'
    bars = bar_chart(
        [Bar(name, 12, "12 (+3)", "K1"), Bar("Retur", -4, "-4", "R1")], label="Movers <best>"
    )
    series = series_chart(
        ["2026-11-01", "2026-11-02"],
        ["01.11", "02.11"],
        [10, 20],
        [15, 5],
        label="Takings & more",
        names=("This <period>", "Before"),
        texts=(["Rp 10", "Rp 20"], ["Rp 15", "Rp 5"]),
    )
    heat = heat_map(
        [[h * w for h in range(24)] for w in range(7)],
        [[f"{w} {h}: <{h * w}>" for h in range(24)] for w in range(7)],
        rows=[f"day {w}" for w in range(7)],
        label="Heat",
        legend=("less", "more"),
    )
    for chart in (bars, series, heat):
        assert isinstance(chart, Markup)
        root = ET.fromstring(str(chart))
        assert root.tag == f"{{{SVG}}}svg"
        assert root.get("role") == "img" and root.get("aria-label")
        assert all("style" not in e.attrib for e in root.iter())
        assert not any(e.tag.endswith("style") for e in root.iter())
    root = ET.fromstring(str(bars))
    assert root.get("aria-label") == "Movers <best>"
    assert "<Susu>" not in str(bars) and "&lt;Susu&gt; &amp; &#34;Gula&#34;" in str(bars)
    assert any(e.text == name for e in root.iter(f"{{{SVG}}}text"))  # escaped, not lost
    zero = float(root.find(f"{{{SVG}}}line").get("x1"))
    coffee, back = root.iter(f"{{{SVG}}}rect")
    assert float(coffee.get("x")) == pytest.approx(zero) and float(coffee.get("width")) > 0
    assert float(back.get("x")) + float(back.get("width")) == pytest.approx(zero)
    assert float(back.get("x")) < zero and back.get("data-value") == "-4"
    assert float(coffee.get("width")) == pytest.approx(3 * float(back.get("width")))
    cells = [e for e in ET.fromstring(str(heat)).iter(f"{{{SVG}}}rect") if e.get("data-row")]
    assert len(cells) == 168
    assert cells[6 * 24 + 23].find(f"{{{SVG}}}title").text == "6 23: <138>"
    assert cells[0].get("fill") != cells[6 * 24 + 23].get("fill")
