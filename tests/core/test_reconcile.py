"""The reports' arithmetic (terminal/core/reconcile.py) on journal entries written by
hand, without a database: each figure, and the accountant's checks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from terminal.core.reconcile import build_figures, checks, problems

JAKARTA = ZoneInfo("Asia/Jakarta")
TS = "2026-11-23T03:10:00.000+00:00"  # 10:10 in Jakarta


def entry(seq, kind, payload, ts=TS):
    return {"seq": seq, "type": kind, "ts": ts, "payload": payload}


def ppn(base, amount):
    return [{"code": "PPN", "rate": "11", "base": base, "amount": amount}]


def sale(seq, goods, tenders, *, rounding=0, discount=0, taxes=(), shift=1, cashier=1, ts=TS):
    tax = sum(t["amount"] for t in taxes)
    return entry(
        seq,
        "sale",
        {
            "cashier": cashier,
            "shift": shift,
            "total": goods + rounding,
            "rounding": rounding,
            "discount": discount,
            "net": goods - tax,
            "tax": tax,
            "taxes": list(taxes),
            "tenders": [{"kind": k, "amount": a} for k, a in tenders],
        },
        ts,
    )


def refund(seq, amount, tenders, taxes=(), shift=1):
    payload = {"amount": amount, "tenders": tenders, "taxes": list(taxes), "shift": shift}
    return entry(seq, "refund", {"cashier": 1, **payload})


def a_day():
    """Three sales (one rounded down in cash, one by card, one discounted and rounded
    up), a card refund of 5,500 and a cash refund of 51,828 given back as 51,800, cash in
    and out, every counted event, and a close 200 short."""
    return [
        entry(1, "shift_open", {"shift": 1, "cashier": 1, "float": 200000}),
        sale(2, 57328, [("cash", 57300)], rounding=-28, taxes=ppn(4955, 545)),
        sale(3, 20000, [("card", 20000)], taxes=ppn(18018, 1982), ts="2026-11-23T05:00:00+00:00"),
        sale(4, 15675, [("cash", 15700)], rounding=25, discount=825, taxes=ppn(14122, 1553)),
        refund(5, 5500, {"card": 5500}, ppn(4955, 545)),
        refund(6, 51828, {"cash": 51800}),
        entry(7, "cash_in", {"shift": 1, "amount": 50000, "reason": "float_top_up"}),
        entry(8, "cash_out", {"shift": 1, "amount": 30000, "reason": "bank_deposit"}),
        entry(9, "cash_out", {"shift": 1, "amount": 2000, "reason": "Parkir"}),
        entry(10, "line_void", {"cashier": 1, "amount": 5500, "late": True}),
        entry(11, "line_void", {"cashier": 1, "amount": 3500, "late": False}),
        entry(12, "order_cancel", {"cashier": 1, "total": 17500}),
        entry(13, "no_sale", {"cashier": 1}),
        entry(14, "reprint", {"sale": "T01-000001", "copy": 1, "cashier": 1}),
        entry(15, "discount_override", {"cashier": 1}),
        entry(
            16,
            "shift_close",
            {
                "shift": 1,
                "cashier": 1,
                "expected": 239200,
                "counted": 239000,
                "variance": -200,
                "counts": {"100000": 2, "20000": 1, "10000": 1, "5000": 1, "2000": 2, "500": 0},
            },
        ),
    ]


def test_sales_refunds_and_discounts_make_net_sales():
    f = build_figures(a_day(), JAKARTA)
    assert (f.sales, f.refunds) == (3, 2)
    assert f.gross_sales == 57328 + 20000 + 15675 + 825 == 93828
    assert (f.discounts, f.refunds_total) == (825, 5500 + 51828)
    assert f.net_sales == 93828 - 825 - 57328 == 35675


def test_tax_is_on_net_sales_like_the_sales_it_sits_next_to():
    f = build_figures(a_day(), JAKARTA)
    (rate,) = f.rates_in_order()
    assert (rate.code, rate.rate) == ("PPN", "11")
    assert (rate.sales_base, rate.sales_tax) == (37095, 4080)
    assert (rate.base, rate.tax) == (37095 - 4955, 4080 - 545)  # the refund's taken off
    assert f.tax == 3535 and f.net_sales_before_tax == 35675 - 3535


def test_each_tender_is_taken_refunded_and_net_and_rounding_is_its_own_line():
    f = build_figures(a_day(), JAKARTA)
    tenders = {kind: (t.taken, t.refunded, t.net) for kind, t in f.tenders_in_order()}
    assert list(tenders) == ["cash", "card"]  # the drawer's first
    assert tenders["cash"] == (73000, 51800, 21200)
    assert tenders["card"] == (20000, 5500, 14500)  # the card refund deducted
    # rounding: -28 + 25 on the sales; the refund gave back 28 less than the goods
    assert f.cash_rounding == (-28 + 25) - (51800 - 51828) == 25
    assert f.payments_net == 35700 == f.net_sales + f.cash_rounding


def test_the_drawer_from_the_float_to_the_count():
    f = build_figures(a_day(), JAKARTA)
    (drawer,) = f.drawers_in_order()
    assert (drawer.shift, drawer.cashier, drawer.opening_float) == (1, 1, 200000)
    assert drawer.cash_in == {"float_top_up": 50000}
    assert drawer.cash_out == {"bank_deposit": 30000, "Parkir": 2000}
    assert drawer.expected == 200000 + 21200 + 50000 - 32000 == 239200
    assert drawer.counts == {100000: 2, 20000: 1, 10000: 1, 5000: 1, 2000: 2}  # zero rows dropped
    assert (drawer.counted, drawer.variance) == (239000, -200)
    assert (f.opening_float, f.cash_in, f.cash_out) == (200000, 50000, 32000)
    assert (f.expected_cash, f.counted_cash, f.variance, f.shifts_closed) == (
        239200,
        239000,
        -200,
        1,
    )


def test_events_are_counted():
    f = build_figures(a_day(), JAKARTA)
    assert (f.voids, f.voids_amount, f.late_voids) == (2, 9000, 1)
    assert (f.cancellations, f.cancellations_amount) == (1, 17500)
    assert (f.no_sale_opens, f.reprints, f.discount_overrides) == (1, 1, 1)
    assert f.by_hour == {10: [2, 73000], 12: [1, 20000]}  # local hours, paid amounts
    assert f.by_cashier == {1: [3, 93000]}
    assert (f.first_seq, f.last_seq) == (1, 16)


def test_every_check_holds_on_a_day_the_terminal_wrote():
    f = build_figures(a_day(), JAKARTA)
    assert problems(f) == []
    names = [c.what for c in checks(f)]
    assert "net sales = gross sales - discounts - refunds" in names
    assert "payments net = net sales + cash rounding" in names
    assert "shift 1: expected = float + cash net + cash in - cash out" in names
    assert "shift 1: variance = counted - expected" in names


def test_a_journal_that_does_not_add_up_is_named():
    day = a_day()
    day[1]["payload"]["tenders"][0]["amount"] = 57000  # a cash tender short of its total
    day[-1]["payload"]["expected"] = 250000  # a close that recorded another expected
    wrong = {c.what for c in problems(build_figures(day, JAKARTA))}
    assert "payments taken = the sales' totals as paid" in wrong
    assert "shift 1: expected = what its close recorded" in wrong


def test_the_payload_keeps_the_figures():
    payload = build_figures(a_day(), JAKARTA).to_payload()
    assert payload["tenders"] == {"cash": [73000, 51800], "card": [20000, 5500]}
    assert payload["taxes"] == {"PPN 11": [32140, 3535]}
    assert (payload["net_sales"], payload["cash_rounding"]) == (35675, 25)
    assert (payload["expected_cash"], payload["counted_cash"], payload["variance"]) == (
        239200,
        239000,
        -200,
    )
    assert payload["counts"] == {"100000": 2, "20000": 1, "10000": 1, "5000": 1, "2000": 2}


def test_a_day_of_two_shifts_has_a_drawer_each():
    day = [
        entry(1, "shift_open", {"shift": 1, "cashier": 1, "float": 100000}),
        sale(2, 11100, [("cash", 11100)], shift=1),
        entry(
            3,
            "shift_close",
            {
                "shift": 1,
                "counted": 111000,
                "expected": 111100,
                "variance": -100,
                "counts": {"100000": 1, "10000": 1, "1000": 1},
            },
        ),
        entry(4, "shift_open", {"shift": 2, "cashier": 2, "float": 111000}),
        sale(5, 5000, [("cash", 5000)], shift=2, cashier=2),
        entry(
            6,
            "shift_close",
            {
                "shift": 2,
                "counted": 116000,
                "expected": 116000,
                "variance": 0,
                "counts": {"100000": 1, "10000": 1, "5000": 1, "1000": 1},
            },
        ),
    ]
    f = build_figures(day, JAKARTA)
    assert [(d.shift, d.expected, d.counted, d.variance) for d in f.drawers_in_order()] == [
        (1, 111100, 111000, -100),
        (2, 116000, 116000, 0),
    ]
    assert (f.shifts_closed, f.variance) == (2, -100)
    assert f.counts == {100000: 2, 10000: 2, 5000: 1, 1000: 2}
    assert problems(f) == []


def test_an_open_shift_has_no_count_yet():
    f = build_figures(a_day()[:-1], JAKARTA)
    (drawer,) = f.drawers_in_order()
    assert (drawer.closed, drawer.counted, drawer.variance) == (False, None, None)
    assert (f.counted_cash, f.variance, f.shifts_closed) == (None, None, 0)
    assert problems(f) == []
