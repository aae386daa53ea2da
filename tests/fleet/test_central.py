"""The central tables and reports, from a real terminal's journal (two days of the demo
shop through the terminal's services, two Z reports): the rows hold what the entries
hold, and a Z report rebuilt by the fleet equals the one the terminal printed, to the
unit, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date
from zoneinfo import ZoneInfo

import pytest

from fleet.central import rebuild_rollups
from fleet.ingest import open_alerts
from fleet.models import (
    CashierDay,
    Entry,
    PaymentDay,
    ProductDay,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLine,
    SalePayment,
    SalesHour,
    SaleTax,
    Shift,
    TaxDay,
    ZReport,
)
from fleet.registry import register_terminal
from fleet.reports import (
    Z_FIELDS,
    DaySales,
    check_z_report,
    sales_by_day,
    verify_chain,
    z_report_figures,
)
from terminal.core import fleet_protocol as fp
from terminal.core.approval import CUSTOMERS
from terminal.core.reconcile import problems
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import with_open_shift
from tests.fleet.conftest import batch, to_entry

DAY_ONE, DAY_TWO = date(2026, 11, 23), date(2026, 11, 24)


def ingest_days(fleet_db, ingest, shop_days, size: int, timezone: str | None = None) -> None:
    register_terminal(
        fleet_db,
        shop_days.terminal_id,
        store="Minimarket Sari",
        group="jakarta",
        public_key_pem=shop_days.public_key_pem,
        timezone=timezone or shop_days.timezone,
    )
    entries = shop_days.entries
    for at in range(0, len(entries), size):
        message = batch(entries[at : at + size], head=entries[-1].seq)
        ack = ingest.raw(fp.topic(shop_days.terminal_id, "up/journal"), fp.encode(message))
        assert ack == fp.Ack(acked=entries[min(at + size, len(entries)) - 1].seq)
    assert open_alerts(fleet_db) == []


def rows(db, model, *order):
    return list(model.select().order_by(*order).bind(db))


@pytest.mark.parametrize("size", [3, 100])  # shifts opened and closed in other batches, or one
def test_the_central_tables_hold_what_the_terminal_journaled(fleet_db, ingest, shop_days, size):
    ingest_days(fleet_db, ingest, shop_days, size)
    sales = rows(fleet_db, Sale, Sale.seq)
    assert [s.label for s in sales] == [f"T01-{n:06d}" for n in range(1, 9)]
    assert [s.paid for s in sales] == [57300, 39500, 23000, 13700, 3200, 20000, 16500, 14500]
    assert [s.rounding for s in sales] == [-28, 0, 0, 25, 50, 0, 0, 0]
    assert all(s.total == s.paid - s.rounding for s in sales)
    assert [s.business_day for s in sales] == [DAY_ONE] * 5 + [DAY_TWO] * 3
    assert [s.shift for s in sales] == [1] * 5 + [2] * 3
    assert {s.store for s in sales} == {"Minimarket Sari"}
    assert (sales[3].discount, sales[0].return_code) == (2825, "RT0100000001Y")

    first = sales[0].seq
    lines = rows(fleet_db, SaleLine, SaleLine.sale_seq, SaleLine.position)
    assert [(x.sku, x.quantity, x.amount) for x in lines if x.sale_seq == first] == [
        ("APEL-FUJI", "1.234", 51828),
        ("TEH-BTL", "1", 5500),
    ]
    split = sales[2].seq
    payments = [p for p in rows(fleet_db, SalePayment, SalePayment.sale_seq) if p.sale_seq == split]
    assert [(p.kind, p.amount, p.tendered, p.change, p.receipt_number) for p in payments] == [
        ("card", 10000, None, None, 2),
        ("cash", 13000, 20000, 7000, None),
    ]
    taxes = [t for t in rows(fleet_db, SaleTax, SaleTax.position) if t.sale_seq == sales[1].seq]
    assert [(t.code, t.rate, t.base, t.amount) for t in taxes] == [
        ("PPN", "11", 33724, 3710),
        ("PB1", "10", 20661, 2066),
    ]

    refunds = rows(fleet_db, Refund, Refund.seq)
    assert [(r.label, r.sale_label, r.amount, r.paid) for r in refunds] == [
        ("R-T01-000001", "T01-000002", 14500, 14500),
        ("R-T01-000002", "T01-000001", 51828, 51800),
        ("R-T01-000003", "T01-000006", 5500, 5500),
    ]
    assert [
        (p.kind, p.amount) for p in rows(fleet_db, RefundPayment, RefundPayment.refund_seq)
    ] == [
        ("card", 14500),
        ("cash", 51800),
        ("cash", 5500),
    ]
    assert [
        (x.sku, x.quantity, x.restock) for x in rows(fleet_db, RefundLine, RefundLine.refund_seq)
    ] == [
        ("KOPI-KPL", "1", True),
        ("APEL-FUJI", "1.234", False),
        ("TEH-BTL", "1", True),
    ]

    shifts = rows(fleet_db, Shift, Shift.shift)
    assert [
        (s.shift, s.opening_float, s.expected, s.counted, s.variance, s.closed_by) for s in shifts
    ] == [(1, 200000, 165400, 164900, -500, 1), (2, 100000, 104000, 125500, 21500, 2)]
    assert json.loads(shifts[0].counts_json) == shop_days.z1["counts"]
    assert shifts[0].opened_seq < shifts[0].closed_seq < shifts[1].opened_seq

    zs = rows(fleet_db, ZReport, ZReport.seq)
    assert [(z.number, z.business_day) for z in zs] == [(1, DAY_ONE), (2, DAY_TWO)]
    assert json.loads(zs[0].figures_json) == shop_days.z1

    # the rows add up to what the terminal's own report said of the day
    day_one = [s for s in sales if s.business_day == DAY_ONE]
    assert sum(s.paid for s in day_one) == sum(t[0] for t in shop_days.z1["tenders"].values())
    cash = [p for p in rows(fleet_db, SalePayment) if p.kind == "cash"]
    assert sum(p.amount for p in cash if p.sale_seq <= day_one[-1].seq) == 87200
    assert verify_chain(fleet_db, shop_days.terminal_id).ok


def test_sales_by_day_per_store_and_terminal(fleet_db, ingest, shop_days):
    ingest_days(fleet_db, ingest, shop_days, 10)
    assert sales_by_day(fleet_db, DAY_ONE) == [
        DaySales("Minimarket Sari", "T01", 5, 136653, 136700, 2, 66300)
    ]
    assert sales_by_day(fleet_db, DAY_TWO) == [
        DaySales("Minimarket Sari", "T01", 3, 51000, 51000, 1, 5500)
    ]
    assert sales_by_day(fleet_db, DAY_TWO, store="elsewhere") == []
    assert sales_by_day(fleet_db, date(2026, 11, 25)) == []


def test_the_business_day_is_the_stores(fleet_db, ingest, shop_days):
    """The same sales in a store registered in Los Angeles: 10:05 in Jakarta is the
    evening before there."""
    ingest_days(fleet_db, ingest, shop_days, 50, timezone="America/Los_Angeles")
    assert [d.count for d in sales_by_day(fleet_db, date(2026, 11, 22))] == [5]
    assert [d.count for d in sales_by_day(fleet_db, DAY_ONE)] == [3]


def test_a_central_z_report_equals_the_printed_one_to_the_unit(fleet_db, ingest, shop_days):
    ingest_days(fleet_db, ingest, shop_days, 7)
    tid = shop_days.terminal_id
    # Z 1: the first day, everything from the journal's start
    first = check_z_report(fleet_db, tid, 1)
    assert first.ok, first.differences
    assert first.rebuilt == {k: v for k, v in shop_days.z1.items() if k not in Z_FIELDS}
    assert first.rebuilt["net_sales"] == 70325 and first.rebuilt["sales"] == 5
    # Z 2: only what came after Z 1, as the terminal's own report of the day said it and
    # as it printed
    figures = z_report_figures(fleet_db, tid, 2)
    assert problems(figures) == []
    rebuilt = json.loads(json.dumps(figures.to_payload()))
    assert rebuilt == json.loads(json.dumps(shop_days.z2_printed))
    assert rebuilt == json.loads(json.dumps(shop_days.z2_own))
    assert (rebuilt["sales"], rebuilt["first_seq"]) == (3, first.rebuilt["last_seq"] + 1)
    assert check_z_report(fleet_db, tid, 2).ok
    with pytest.raises(LookupError):
        z_report_figures(fleet_db, tid, 3)
    with pytest.raises(LookupError):
        z_report_figures(fleet_db, "T99", 1)


def test_a_z_report_missing_entries_shows_where_it_differs(fleet_db, ingest, shop_days):
    """The fleet's copy without one of the day's sales (a forged Z report cannot be
    stored; here the stored copy is changed behind the ingest's back): the check names
    the figures that differ."""
    ingest_days(fleet_db, ingest, shop_days, 28)
    sale = next(e for e in shop_days.entries if e.type == "sale")
    Entry.update(type="no_sale").where(Entry.seq == sale.seq).execute(fleet_db)
    check = check_z_report(fleet_db, shop_days.terminal_id, 1)
    assert not check.ok
    assert check.differences["sales"] == (5, 4)
    assert not verify_chain(fleet_db, shop_days.terminal_id).ok


def test_a_members_sale_keeps_the_customer_id(fleet_db, ingest, settings, clock):
    """The terminal's customer ids are text (hex): a member's sale gets its central row
    with the id, and no alert."""
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    pos = built.pos
    pos.sign_in("1", "1357")
    approval = pos.approvals.approve(CUSTOMERS, pos.cashier, "2580", supervisor="2")
    customer = pos.customers.add("Rina Wati", "0813 1111 2222", approval=approval)
    pos.customers.attach(customer)
    pos.scan("8991002101111")
    pos.pay_cash(10000)
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    register_terminal(
        fleet_db,
        "T01",
        store="S1",
        group="G1",
        public_key_pem=pos.journal.public_key_pem(),
    )
    assert ingest.journal("T01", batch(entries)).acked == entries[-1].seq
    (sale,) = Sale.select().bind(fleet_db)
    assert sale.customer == customer.id and isinstance(customer.id, str)
    assert [a.kind for a in open_alerts(fleet_db, "T01")] == []


def rollup_rows(db) -> dict:
    return {
        model.__name__: sorted(
            tuple(sorted(row.items())) for row in model.select().dicts().bind(db)
        )
        for model in (SalesHour, PaymentDay, ProductDay, TaxDay, CashierDay)
    }


@pytest.mark.parametrize("size", [3, 100])
def test_the_rollups_add_up_to_the_central_tables(fleet_db, ingest, shop_days, size):
    """Kept at ingest batch by batch, the rollups hold the sums of the central rows: the
    day's takings per hour, per tender and per product, the refunds and the voids."""
    ingest_days(fleet_db, ingest, shop_days, size)
    for day in (DAY_ONE, DAY_TWO):
        hours = list(SalesHour.select().where(SalesHour.business_day == day).bind(fleet_db))
        sales = [s for s in rows(fleet_db, Sale, Sale.seq) if s.business_day == day]
        refunds = [r for r in rows(fleet_db, Refund, Refund.seq) if r.business_day == day]
        assert sum(h.sales for h in hours) == len(sales) > 0
        assert sum(h.paid for h in hours) == sum(s.paid for s in sales)
        assert sum(h.tax for h in hours) == sum(s.tax for s in sales)
        assert sum(h.refunds for h in hours) == len(refunds)
        assert sum(h.refunded for h in hours) == sum(r.paid for r in refunds)
        assert {h.currency for h in hours if h.sales} == {"IDR"}
        seqs = {s.seq for s in sales}
        payments = [
            p for p in rows(fleet_db, SalePayment, SalePayment.sale_seq) if p.sale_seq in seqs
        ]
        by_kind = {
            r.kind: r.paid
            for r in PaymentDay.select().where(PaymentDay.business_day == day).bind(fleet_db)
        }
        for kind in {p.kind for p in payments}:
            assert by_kind[kind] == sum(p.amount for p in payments if p.kind == kind)
        lines = [x for x in rows(fleet_db, SaleLine, SaleLine.sale_seq) if x.sale_seq in seqs]
        products = {
            r.sku: r
            for r in ProductDay.select().where(ProductDay.business_day == day).bind(fleet_db)
        }
        for sku in {x.sku for x in lines}:
            mine = [x for x in lines if x.sku == sku]
            assert products[sku].amount == sum(x.amount for x in mine)
            assert products[sku].lines == len(mine)
        taxes = [x for x in rows(fleet_db, SaleTax, SaleTax.sale_seq) if x.sale_seq in seqs]
        by_rate = {
            (r.code, r.rate): r.amount
            for r in TaxDay.select().where(TaxDay.business_day == day).bind(fleet_db)
        }
        assert by_rate == {
            key: sum(x.amount for x in taxes if (x.code, x.rate) == key)
            for key in {(x.code, x.rate) for x in taxes}
        }
        per_cashier = {
            r.cashier: r.paid
            for r in CashierDay.select().where(CashierDay.business_day == day).bind(fleet_db)
        }
        for cashier in {s.cashier for s in sales}:
            assert per_cashier[cashier or 0] == sum(s.paid for s in sales if s.cashier == cashier)
    voids = [e for e in shop_days.entries if e.type == "line_void"]
    assert sum(h.voids for h in SalesHour.select().bind(fleet_db)) == len(voids) > 0
    # the hour is the store's: a sale at 10:00 in Jakarta is in hour 10, not 3 (UTC)
    first = rows(fleet_db, Sale, Sale.seq)[0]
    local_hour = first.ts.replace(tzinfo=UTC).astimezone(ZoneInfo(shop_days.timezone)).hour
    assert (
        SalesHour.select()
        .where((SalesHour.business_day == first.business_day) & (SalesHour.hour == local_hour))
        .bind(fleet_db)
        .exists()
    )
    kept = rollup_rows(fleet_db)
    with fleet_db.atomic():
        rebuild_rollups(fleet_db)
    assert rollup_rows(fleet_db) == kept  # made again from the central tables: the same
