"""Reports that add up (issue 12): a day of every kind of transaction on a real terminal
(encrypted database, journal, the ZVT simulator, the simulated printer), through the
services; then the Z report's printed lines - the ESC/POS bytes read back - are checked
as an accountant checks them, and against the figures.

``python -m tests.services.test_day_report docs/screenshots/z-report.png`` draws the Z
report of this day as the printer prints it (the README's picture)."""

from __future__ import annotations

import dataclasses
import re
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from hal.printer.preview import interpret, render_png
from terminal.config import parse_settings
from terminal.core.approval import DISCOUNTS, PAID_ORDERS, UNPAID_ORDERS
from terminal.core.clock import ManualClock
from terminal.core.pricing import AMOUNT, PERCENT, Discount
from terminal.core.reconcile import build_figures, checks
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import load_doc

APPLES = "2210001012348"  # a scale label: 1.234 kg of Fuji apples at 42,000/kg = 51,828
TEA, SUGAR, COFFEE, BREAD, NOODLES, FRIED_RICE = (
    "8991002101111",  # 5,500, PPN
    "GULA-1KG",  # 17,500, exempt
    "KOPI-KPL",  # 14,500, PPN
    "ROTI-TWR",  # 16,500, PPN
    "INDOMIE-G",  # 3,500, PPN, 10% off this week
    "D01",  # the kitchen's Nasi Goreng, 25,000, PPN + PB1
)
# the blind count at the close: Rp 164.900, Rp 500 short of the Rp 165.400 expected
COUNT = {100000: 1, 50000: 1, 10000: 1, 2000: 2, 500: 1, 200: 2}


def english(settings):
    """The demo shop printing in English, the card simulator answering at once."""
    store = dataclasses.replace(settings.store, locale="en")
    hardware = settings.hardware.replace("card", approve_after=0)
    return dataclasses.replace(settings, store=store, hardware=hardware)


def run_day(settings, clock):
    """A day of five sales at the demo shop, with everything a day brings; returns the
    terminal after its Z report."""
    built = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    built.card.recovery_pause = 0.1
    pos = built.pos

    def at(hh_mm: str) -> None:  # Jakarta time, on the clock's day
        hour, minute = map(int, hh_mm.split(":"))
        clock.now = clock().replace(hour=hour - 7, minute=minute, second=0)

    def approve(category):
        return pos.approvals.approve(category, pos.cashier, "2580", supervisor="2")

    pos.sign_in("1", "1357")  # Sari
    pos.shifts.open(200000)
    at("10:05")  # 1: apples and tea, cash: 57,328 rounded down to 57,300
    pos.scan(APPLES)
    pos.scan(TEA)
    first = pos.pay_cash(pos.cash_payable()).committed
    at("10:20")  # 2: coffee and the kitchen's fried rice, by card: 39,500
    pos.scan(COFFEE)
    pos.scan(FRIED_RICE)
    second = pos.pay_card().committed
    at("10:40")  # 3: split tender, 10,000 by card and 13,000 in cash
    pos.scan(SUGAR)
    pos.scan(TEA)
    pos.pay_card(10000)
    third = pos.pay_cash(20000).committed
    at("11:10")  # 4: 5% off the bread (the cashier's own), 2,000 off the sale (approved)
    pos.scan(BREAD)
    pos.discount(Discount(PERCENT, D(5), "damaged"), index=0)
    pos.discount(Discount(AMOUNT, D(2000), "loyal"), approval=approve(DISCOUNTS))
    pos.pay_cash(20000)  # 13,675 rounded up to 13,700
    at("11:30")  # 5: a tea voided late (approved), then noodles: 3,150 -> 3,200 in cash
    pos.scan(TEA)
    clock.advance(31)
    pos.void_line(0, "mistake", approve(UNPAID_ORDERS))
    pos.scan(NOODLES)
    pos.pay_cash(5000)
    at("11:45")  # an order cancelled
    pos.scan(SUGAR)
    pos.cancel_sale("changed_mind", approve(UNPAID_ORDERS))
    at("12:00")  # the coffee back to the card
    sale = pos.refunds.find(second.return_code)
    pos.refunds.refund(sale, [(1, D(1), True)], "defective", approve(PAID_ORDERS))
    at("12:15")  # the apples back in cash: 51,828 given as 51,800
    sale = pos.refunds.find(first.return_code)
    pos.refunds.refund(sale, [(1, D("1.234"), False)], "defective", approve(PAID_ORDERS))
    at("13:00")
    pos.shifts.cash_move("cash_in", 50000, "float_top_up")
    pos.shifts.cash_move("cash_out", 100000, "bank_deposit")
    pos.shifts.cash_move("cash_out", 20000, "petty_cash")
    at("13:10")
    pos.shifts.no_sale("change", approve(UNPAID_ORDERS))
    at("13:20")
    pos.refunds.reprint(pos.refunds.find(third.label).id)
    at("14:00")
    pos.shifts.x_report()
    at("17:00")
    pos.shifts.close(COUNT)
    pos.sign_out()
    at("17:05")
    pos.sign_in("2", "2580")  # Budi, the supervisor, closes the day
    pos.shifts.z_report()
    return built


@pytest.fixture
def day(settings, clock):
    built = run_day(english(settings), clock)
    yield built
    built.devices.close()


# -- reading the paper back --------------------------------------------------------------------
MONEY = re.compile(r"(-?)Rp ([\d.]+)$")


def rupiah(text: str) -> int:
    sign, digits = MONEY.search(text).groups()
    return int(sign + digits.replace(".", ""))


def sections(lines: list[str]) -> dict[str, list[tuple[str, int]]]:
    """The report's sections (between the rules), each under its first line, with its
    lines that end in an amount: (label, amount)."""
    out: dict[str, list[tuple[str, int]]] = {}
    for block in "\n".join(lines).split("-" * 48):
        rows = [row.rstrip() for row in block.strip("\n").splitlines() if row.strip()]
        if not rows:
            continue
        heading = re.split(r"\s{2,}", rows[0].strip())[0]
        out[heading] = [
            (re.split(r"\s{2,}", row.strip())[0], rupiah(row)) for row in rows if MONEY.search(row)
        ]
    return out


def value(section: list[tuple[str, int]], label: str) -> int:
    (found,) = [amount for name, amount in section if name == label]
    return found


def printed(pos, kind: str) -> list[str]:
    (data,) = [data for name, data in pos.printer.jobs if f"-{kind}-" in name]
    return interpret(data).lines


# -- the tests ---------------------------------------------------------------------------------
def test_a_day_of_every_kind_of_transaction_adds_up_on_the_z_report(day):
    pos = day.pos
    (z,) = [e["payload"] for e in read_entries(pos.db, types=("z_report",))]
    lines = printed(pos, "Z")
    s = sections(lines)
    assert lines[1] == "Z REPORT 1"

    # sales: gross - discounts - refunds = net (amounts taken off print with a minus)
    sales = s["SALES"]
    gross, discounts = value(sales, "Gross sales"), value(sales, "Discounts")
    refunds, net = value(sales, "Refunds (2)"), value(sales, "Net sales")
    assert gross + discounts + refunds == net
    assert (gross, discounts, refunds, net) == (139478, -2825, -66328, 70325)
    assert any(re.fullmatch(r"Sales\s+5", line) for line in lines)

    # tax per rate, on net sales too: the rates add to the total; before tax + tax = net
    tax = s["TAX IN NET SALES (INCLUDED IN PRICES)"]
    rates = [amount for name, amount in tax if re.match(r"(PPN|PB1) \d+% of", name)]
    assert len(rates) == 2 and sum(rates) == value(tax, "Tax total")
    assert value(tax, "Net sales before tax") + value(tax, "Tax total") == net

    # per tender taken - refunded = net; the nets = net sales + cash rounding
    pay = s["PAYMENTS"]
    nets = {}
    for tender in ("Cash", "Card"):
        taken, back = value(pay, f"{tender} taken"), value(pay, f"{tender} refunded")
        nets[tender] = value(pay, f"{tender} net")
        assert taken + back == nets[tender]
    assert nets == {"Cash": 87200 - 51800, "Card": 49500 - 14500}  # the card refund deducted
    assert sum(nets.values()) == value(pay, "Payments net")
    assert value(pay, "= Net sales") == net
    assert value(pay, "= Net sales") + value(pay, "+ Cash rounding") == value(pay, "Payments net")
    assert value(pay, "+ Cash rounding") == 75  # +47 on the sales, 28 kept on a cash refund

    # the drawer: float + cash net + in - out = expected; the count; variance
    (heading,) = [h for h in s if h.startswith("CASH DRAWER, SHIFT")]
    drawer = s[heading]
    expected = value(drawer, "Expected cash")
    cash_in, cash_out = value(drawer, "Cash in"), value(drawer, "Cash out")
    assert value(drawer, "Opening float") == 200000
    assert value(drawer, "Cash net") == nets["Cash"]
    assert value(drawer, "Opening float") + nets["Cash"] + cash_in + cash_out == expected
    assert (cash_in, cash_out, expected) == (50000, -120000, 165400)
    assert value(drawer, "Float top-up") == cash_in
    assert value(drawer, "Bank deposit") + value(drawer, "Petty cash") == cash_out
    notes = [(name, amount) for name, amount in drawer if re.fullmatch(r"Rp [\d.]+ x \d+", name)]
    for name, amount in notes:
        note, count = name.split(" x ")
        assert rupiah(note) * int(count) == amount
    assert {rupiah(name.split(" x ")[0]): int(name.split(" x ")[1]) for name, _a in notes} == COUNT
    counted = value(drawer, "Counted cash")
    assert sum(amount for _n, amount in notes) == counted == 164900
    assert value(drawer, "Variance") == counted - expected == -500

    # counted, not summed
    events = "\n".join(lines)
    assert re.search(r"Voids \(1 late\)\s+1  Rp 5\.500", events)
    assert re.search(r"Cancellations\s+1  Rp 17\.500", events)
    for label in ("No-sale opens", "Receipt reprints", "Discount overrides"):
        assert re.search(rf"{label}\s+1$", events, re.M), label

    # by hour and by cashier: each adds to what the payments took
    start, middle = lines.index("By hour"), lines.index("By cashier")
    by_hour = [rupiah(line) for line in lines[start + 1 : middle]]
    by_cashier = [rupiah(line) for line in lines[middle + 1 :] if MONEY.search(line)][:1]
    assert sum(by_hour) == sum(by_cashier) == 87200 + 49500
    assert any(re.fullmatch(r"  #1 Sari x5\s+Rp 136\.700", line) for line in lines)

    # the printed lines are the figures, and the figures pass every check
    report = day.pos.shifts.report(shift_only=False)  # nothing since: the day's figures
    assert report.sales == 0  # (the Z reset the day)
    assert (z["gross_sales"], z["discounts"], z["refunds"], z["net_sales"]) == (
        gross,
        -discounts,
        [2, -refunds],
        net,
    )
    assert z["tenders"] == {"cash": [87200, 51800], "card": [49500, 14500]}
    assert (z["cash_rounding"], z["expected_cash"], z["counted_cash"], z["variance"]) == (
        75,
        165400,
        164900,
        -500,
    )
    assert (z["voids"], z["cancellations"], z["reprints"], z["no_sale_opens"]) == (
        [1, 5500, 1],
        [1, 17500],
        1,
        1,
    )
    assert z["cashier"] == 2 and "approved_by" not in z  # a supervisor signed in closed it
    day_entries = read_entries(pos.db, since=z["first_seq"])
    figures = build_figures(
        (e for e in day_entries if e["seq"] <= z["last_seq"]), pos.settings.store.timezone
    )
    assert [c for c in checks(figures) if not c.ok] == []
    assert figures.to_payload() == {k: v for k, v in z.items() if k not in ("z_number", "cashier")}
    assert pos.journal.verify().ok


def test_the_shift_close_report_shows_the_count_by_denomination(day):
    lines = printed(day.pos, "SHIFT")
    s = sections(lines)
    assert lines[1] == "SHIFT CLOSE 1"
    (heading,) = [h for h in s if h.startswith("CASH DRAWER, SHIFT 1")]
    drawer = s[heading]
    assert value(drawer, "Rp 100.000 x 1") == 100000 and value(drawer, "Rp 200 x 2") == 400
    assert value(drawer, "Counted cash") == 164900 and value(drawer, "Variance") == -500


def test_the_x_report_a_cashier_printed_shows_the_float_not_the_expected_cash(day):
    lines = printed(day.pos, "X")
    s = sections(lines)
    (heading,) = [h for h in s if h.startswith("CASH DRAWER, SHIFT 1")]
    assert value(s[heading], "Opening float") == 200000
    assert not any("Expected cash" in line or "Variance" in line for line in lines)


# -- the README's picture ----------------------------------------------------------------------
def draw_z_report(path: Path) -> Path:
    """Run the day in a temporary directory and draw its Z report as printed."""
    with tempfile.TemporaryDirectory() as tmp:
        doc = load_doc()
        doc["terminal"]["data_dir"] = str(Path(tmp) / "var")  # its keys too
        settings = english(parse_settings(doc))
        clock = ManualClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
        built = run_day(settings, clock)
        try:
            data = [data for name, data in built.pos.printer.jobs if "-Z-" in name][-1]
            return render_png(interpret(data), path)
        finally:
            built.devices.close()


if __name__ == "__main__":
    print(draw_z_report(Path(sys.argv[1] if len(sys.argv) > 1 else "z-report.png")))
