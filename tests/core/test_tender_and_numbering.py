import pytest

from terminal.core.errors import TenderError
from terminal.core.money import currency
from terminal.core.numbering import parse_return_code, return_code, transaction_label
from terminal.core.tender import quick_tenders, take_cash

IDR = currency("IDR")
CNY = currency("CNY")


def test_change_is_tendered_minus_total():
    payment = take_cash(68328, 100000, IDR)
    assert (payment.payable, payment.change, payment.rounding) == (68328, 31672, 0)


def test_cash_rounding_applies_to_what_is_payable():
    payment = take_cash(68350, 70000, IDR, cash_rounding=100)
    assert (payment.payable, payment.rounding, payment.change) == (68400, 50, 1600)
    assert take_cash(1234, 1230, CNY, cash_rounding=10).change == 0


def test_cash_rounding_never_gives_goods_away():
    # Rp 40 rounds half-up to 0 at a step of 100: the customer pays 100, not nothing
    payment = take_cash(40, 100, IDR, cash_rounding=100)
    assert (payment.payable, payment.rounding, payment.change) == (100, 60, 0)
    assert take_cash(0, 0, IDR, cash_rounding=100).payable == 0  # an empty total stays 0


def test_exact_tender_gives_no_change():
    assert take_cash(16500, 16500, IDR).change == 0


def test_tender_below_total_is_refused():
    with pytest.raises(TenderError, match=r"Tendered Rp 16\.000 is less than the total Rp 16\.500"):
        take_cash(16500, 16000, IDR)
    with pytest.raises(TenderError, match="less than"):
        take_cash(68350, 68350, IDR, cash_rounding=100)  # payable is 68400


def test_a_typing_slip_is_refused():
    with pytest.raises(TenderError, match="more than the largest note"):
        take_cash(16500, 1650000, IDR)


def test_quick_tenders_are_the_next_round_amounts():
    assert quick_tenders(68328, IDR, count=4) == [68400, 68500, 69000, 100000]
    # the nearest amounts, and the last button is the biggest note's
    assert quick_tenders(62800, IDR) == [63000, 64000, 65000, 70000, 100000]
    assert quick_tenders(130000, IDR) == [140000, 150000, 200000]
    # 100 and 200 both round up to 16600; 5000, 10000 and 20000 all to 20000
    assert quick_tenders(16500, IDR, count=10) == [16600, 17000, 18000, 20000, 50000, 100000]
    assert quick_tenders(1234, CNY, count=4) == [1240, 1250, 1300, 10000]


def test_transaction_label():
    assert transaction_label("T01", 42) == "T01-000042"


def test_return_code_round_trip_and_misreads():
    code = return_code("T01", 42)
    assert code.startswith("RT0100000042") and len(code) == 13
    assert code == "RT0100000042" + code[-1]
    ref = parse_return_code(code)
    assert (ref.terminal_id, ref.number) == ("T01", 42)
    # any single changed character, and a swap of two neighbours, is refused
    for i in range(1, len(code)):
        for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            if char != code[i]:
                assert parse_return_code(code[:i] + char + code[i + 1 :]) is None
    assert parse_return_code("garbage") is None


def test_return_code_catches_every_adjacent_swap():
    for terminal_id in ("T01", "Z0", "A9Z0", "ZZ00ZZ00"):
        for number in (1, 42, 90000009, 10203040):
            code = return_code(terminal_id, number)
            for i in range(1, len(code) - 1):
                if code[i] != code[i + 1]:
                    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                    assert parse_return_code(swapped) is None, (code, swapped)


def test_numbers_beyond_the_return_code_field_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        return_code("T01", 10**8)


def test_terminal_id_is_checked():
    with pytest.raises(ValueError, match="terminal id"):
        return_code("t-01", 1)
