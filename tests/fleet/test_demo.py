"""The demo fleet (``pos-fleet demo``, :mod:`fleet.demo`): a week of simulated trading whose
journals verify at the fleet, whose sales are in the central tables, whose rollups are
what :func:`fleet.central.rebuild_rollups` makes of them, whose Z reports the fleet
rebuilds to the unit, and which a seed makes again exactly."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import peewee
import pytest

from fleet import central, demo, reports
from fleet.db import connect, create_tables
from fleet.models import (
    Alert,
    Entry,
    PaymentDay,
    ProductDay,
    Quarantine,
    Refund,
    RefundPayment,
    Sale,
    SaleLine,
    SalePayment,
    SalesHour,
    Shift,
    Terminal,
    ZReport,
)
from terminal.core.reconcile import build_figures, problems

# 15:30 in Jakarta on a Friday: the afternoon shift is open, no Z yet today
NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
JAKARTA = ZoneInfo("Asia/Jakarta")


def fresh_db(path) -> peewee.Database:
    db = connect(f"sqlite:///{path}")
    create_tables(db)
    return db


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The default demo (3 stores, 2 terminals each, a week and today), filled once."""
    db = fresh_db(tmp_path_factory.mktemp("demo") / "fleet.db")
    started = time.perf_counter()
    result = demo.fill(db, now=NOW)
    seconds = time.perf_counter() - started
    yield db, result, seconds
    db.close()


def entries(db, terminal_id: str, kind: str | None = None) -> list[Entry]:
    query = Entry.select().where(Entry.terminal_id == terminal_id)
    if kind:
        query = query.where(Entry.type == kind)
    return list(query.order_by(Entry.seq).bind(db))


def test_the_default_week_is_made_quickly_for_six_terminals_in_three_stores(week):
    db, result, seconds = week
    assert seconds < 30, f"{seconds:.1f} s"
    assert list(result.terminals) == ["T01", "T02", "T03", "T04", "T05", "T06"]
    assert len(set(result.terminals.values())) == 3
    for t in Terminal.select().bind(db):
        assert (t.group, t.timezone, t.status) == ("demo", "Asia/Jakarta", "online")
        assert t.store == result.terminals[t.id]
    assert (result.first_day.isoformat(), result.last_day.isoformat()) == (
        "2026-11-20",
        "2026-11-27",
    )
    assert result.sales > 6 * 7 * 45
    assert result.refunds > 0 and result.voids > 0
    assert result.z_reports == 6 * 7  # each whole day closed; today not yet


def test_every_journal_verifies_at_the_fleet_up_to_the_head_it_acknowledged(week):
    db, result, _ = week
    for tid, head in result.heads.items():
        verdict = reports.verify_chain(db, tid)
        assert verdict.ok, f"{tid}: {verdict}"
        term = Terminal.select().where(Terminal.id == tid).bind(db).get()
        assert term.acked_seq == head == len(entries(db, tid))
    assert Alert.select().bind(db).count() == 0
    assert Quarantine.select().bind(db).count() == 0


def test_a_tampered_entry_is_caught_by_the_same_check(week, tmp_path):
    """(The verification above can fail.) A copy of T01's entries with one amount changed."""
    db = fresh_db(tmp_path / "small.db")
    demo.fill(db, stores=1, terminals_per_store=1, days=1, sales_per_day=10, now=NOW)
    sale = Entry.select().where((Entry.terminal_id == "T01") & (Entry.type == "sale")).bind(db)
    first = sale.first()
    payload = json.loads(first.payload_json)
    payload["total"] += 1000
    Entry.update(payload_json=json.dumps(payload, sort_keys=True, separators=(",", ":"))).where(
        (Entry.terminal_id == "T01") & (Entry.seq == first.seq)
    ).execute(db)
    assert not reports.verify_chain(db, "T01").ok


def test_the_sales_refunds_shifts_and_z_reports_are_in_the_central_tables(week):
    db, result, _ = week
    assert Sale.select().bind(db).count() == result.sales
    assert Refund.select().bind(db).count() == result.refunds
    for tid in result.terminals:
        sales = entries(db, tid, "sale")
        held = {s.seq: s for s in Sale.select().where(Sale.terminal_id == tid).bind(db)}
        assert sorted(held) == [e.seq for e in sales]
        for e in sales:
            p = json.loads(e.payload_json)
            row = held[e.seq]
            assert (row.paid, row.number, row.shift, row.cashier) == (
                p["total"],
                p["number"],
                p["shift"],
                p["cashier"],
            )
        lines = SaleLine.select().where(SaleLine.terminal_id == tid).bind(db).count()
        assert lines == sum(len(json.loads(e.payload_json)["lines"]) for e in sales)
        refunds = entries(db, tid, "refund")
        assert Refund.select().where(Refund.terminal_id == tid).bind(db).count() == len(refunds)
        # two shifts each whole day (closed, counted), and today's two opened
        shifts = list(Shift.select().where(Shift.terminal_id == tid).bind(db))
        assert len(shifts) == 2 * 8
        assert sum(s.closed_seq is not None for s in shifts) == 2 * 7 + 1
        assert {s.business_day.isoformat() for s in shifts if s.closed_seq} >= {"2026-11-20"}
        assert ZReport.select().where(ZReport.terminal_id == tid).bind(db).count() == 7
    kinds = Counter(p.kind for p in SalePayment.select().bind(db))
    assert kinds["cash"] > kinds["card"] > 0.2 * kinds["cash"]
    assert {p.kind for p in RefundPayment.select().bind(db)} <= {"cash", "card"}


def test_trading_is_plausible_opening_hours_busier_at_lunch_and_in_the_evening(week):
    db, _, _ = week
    hours = Counter(
        s.ts.replace(tzinfo=UTC).astimezone(JAKARTA).hour for s in Sale.select().bind(db)
    )
    assert set(hours) <= set(range(8, 21))
    assert hours[12] > 1.5 * hours[9] and hours[18] > 1.5 * hours[15]
    skus = Counter(line.sku for line in SaleLine.select().bind(db))
    assert len(skus) > 25  # the demo catalogue, weighed goods too
    assert any(q.quantity not in ("1", "2", "3", "4", "6") for q in SaleLine.select().bind(db))
    voids = Entry.select().where(Entry.type == "line_void").bind(db)
    assert all(json.loads(v.payload_json)["amount"] > 0 for v in voids)
    assert max(e.ts for e in Entry.select().bind(db)) <= NOW.isoformat()


def test_the_rollups_agree_with_the_central_tables_as_rebuilt(week):
    db, result, _ = week

    def snapshot() -> dict:
        return {
            model.__name__: sorted(
                tuple(sorted((k, str(v)) for k, v in row.items() if k != "id"))
                for row in model.select().dicts().bind(db)
            )
            for model in (SalesHour, PaymentDay, ProductDay)
        }

    kept = snapshot()
    assert all(kept.values())
    with db.atomic() as transaction:
        central.rebuild_rollups(db)
        rebuilt = snapshot()
        transaction.rollback()
    assert rebuilt == kept
    paid = Sale.select(peewee.fn.SUM(Sale.paid)).bind(db).scalar()
    assert SalesHour.select(peewee.fn.SUM(SalesHour.paid)).bind(db).scalar() == paid
    assert PaymentDay.select(peewee.fn.SUM(PaymentDay.paid)).bind(db).scalar() == paid
    voids = SalesHour.select(peewee.fn.SUM(SalesHour.voids)).bind(db).scalar()
    assert voids == result.voids == Entry.select().where(Entry.type == "line_void").bind(db).count()


def test_each_z_report_rebuilt_by_the_fleet_equals_the_journaled_one(week):
    db, _, _ = week
    zs = list(ZReport.select().bind(db))
    assert len(zs) == 42
    for z in zs:
        check = reports.check_z_report(db, z.terminal_id, z.number)
        assert check.ok, (z.terminal_id, z.number, check.differences)
        figures = reports.z_report_figures(db, z.terminal_id, z.number)
        assert not problems(figures), problems(figures)
        assert figures.sales > 0 and figures.shifts_closed == 2
    # a day's Z covers that local day's sales, no more, no less
    z = zs[-1]
    day_sales = Sale.select().where(
        (Sale.terminal_id == z.terminal_id) & (Sale.business_day == z.business_day)
    )
    assert json.loads(z.figures_json)["sales"] == day_sales.bind(db).count()


def test_a_z_report_changed_after_the_fact_is_told_apart(week, tmp_path):
    """(The Z check above can fail.) The fleet's rebuild against a different figure."""
    db = fresh_db(tmp_path / "z.db")
    demo.fill(db, stores=1, terminals_per_store=1, days=1, sales_per_day=10, now=NOW)
    z = Entry.select().where(Entry.type == "z_report").bind(db).get()
    payload = json.loads(z.payload_json)
    payload["sales"] += 1
    Entry.update(payload_json=json.dumps(payload)).where(
        (Entry.terminal_id == z.terminal_id) & (Entry.seq == z.seq)
    ).execute(db)
    assert reports.check_z_report(db, "T01", 1).differences == {
        "sales": (payload["sales"], payload["sales"] - 1)
    }


def _figures(db) -> dict:
    out = {}
    for tid in [t.id for t in Terminal.select().order_by(Terminal.id).bind(db)]:
        rows = [
            {"seq": e.seq, "type": e.type, "ts": e.ts, "payload": json.loads(e.payload_json)}
            for e in entries(db, tid)
        ]
        out[tid] = (build_figures(rows, JAKARTA).to_payload(), [e.hash for e in entries(db, tid)])
    return out


def test_the_same_seed_makes_the_same_week_another_seed_another(tmp_path):
    made = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        db = fresh_db(tmp_path / f"{name}.db")
        demo.fill(db, stores=2, terminals_per_store=1, days=2, sales_per_day=15, seed=seed, now=NOW)
        made[name] = _figures(db)
        db.close()
    assert made["a"] == made["b"]
    assert made["a"]["T01"][0]["sales"] > 0
    assert made["a"]["T01"] != made["c"]["T01"]


def test_today_is_filled_up_to_now_only(tmp_path):
    db = fresh_db(tmp_path / "today.db")
    morning = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
    demo.fill(db, stores=1, terminals_per_store=1, days=0, sales_per_day=60, now=morning)
    stamps = [e.ts for e in Entry.select().bind(db)]
    assert stamps and max(stamps) <= morning.isoformat()
    sales = list(Sale.select().bind(db))
    assert sales and {s.business_day.isoformat() for s in sales} == {"2026-11-27"}
    assert ZReport.select().bind(db).count() == 0
    assert morning - max(s.ts.replace(tzinfo=UTC) for s in sales) < timedelta(hours=1)


def test_a_second_demo_in_the_same_database_is_refused_and_sends_nothing(tmp_path):
    db = fresh_db(tmp_path / "twice.db")
    demo.fill(db, stores=1, terminals_per_store=1, days=1, sales_per_day=5, now=NOW)
    held = Entry.select().bind(db).count()
    with pytest.raises(ValueError, match="registered already"):
        demo.fill(db, stores=1, terminals_per_store=1, days=1, sales_per_day=5, now=NOW)
    assert Entry.select().bind(db).count() == held


def test_the_demo_fills_postgresql_as_sqlite(fleet_db):
    """The ingest's own path on both backends: a small demo verifies and its rollups agree."""
    done = demo.fill(fleet_db, stores=1, terminals_per_store=2, days=1, sales_per_day=20, now=NOW)
    for tid in done.terminals:
        assert reports.verify_chain(fleet_db, tid).ok
    paid = Sale.select(peewee.fn.SUM(Sale.paid)).bind(fleet_db).scalar()
    assert SalesHour.select(peewee.fn.SUM(SalesHour.paid)).bind(fleet_db).scalar() == paid
    for z in ZReport.select().bind(fleet_db):
        assert reports.check_z_report(fleet_db, z.terminal_id, z.number).ok
