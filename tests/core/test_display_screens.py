"""What the customer sees on a 2 x 20 pole display at each moment of a sale, in each
shop's currency, cut by columns (a Chinese character takes two)."""

from __future__ import annotations

from terminal.core.customer_display import WORDS, Screens, columns, spread
from terminal.core.money import CURRENCIES

ENGLISH = dict(WORDS)


def screens(code: str, **more) -> Screens:
    return Screens(CURRENCIES[code], ENGLISH, ("Toko Demo Sejahtera", "Selamat datang"), **more)


def test_a_rupiah_sale_screen_by_screen():
    s = screens("IDR")
    assert s.line_added("Teh Botol Sosro 450 ml", "2", 11_000) == (
        "Teh Botol Sosro 450 ",  # 20 columns, the rest cut
        "2 x" + " " * 8 + "Rp 11.000",
    )
    assert s.line_added("Aqua 600 ml", "1", 3_500) == ("Aqua 600 ml", " " * 12 + "Rp 3.500")
    assert s.line_voided("Aqua 600 ml", 11_000) == (
        "Void Aqua 600 ml",
        "Total" + " " * 6 + "Rp 11.000",
    )
    assert s.total(57_300) == ("Total", " " * 11 + "Rp 57.300")
    assert s.paid(60_000, 2_700) == (
        "Paid" + " " * 7 + "Rp 60.000",
        "Change" + " " * 6 + "Rp 2.700",
    )
    assert s.paid(57_300, 0) == ("Paid" + " " * 7 + "Rp 57.300", "Thank you")
    assert s.idle() == ("Toko Demo Sejahtera", "Selamat datang")
    assert Screens(CURRENCIES["IDR"], ENGLISH).idle() == ("Welcome", "")


def test_tugrik_and_yuan_as_every_display_can_show_them():
    assert screens("MNT").total(12_500) == ("Total", "          12,500 MNT")
    assert screens("CNY").paid(5_000, 1_250) == (
        "Paid" + " " * 7 + "RMB 50.00",
        "Change" + " " * 5 + "RMB 12.50",
    )


def test_every_line_fits_the_width_and_the_amount_wins():
    s = screens("IDR", width=16)
    for upper, lower in (
        s.line_added("Beras Pandan Wangi 5 kg premium", "12", 936_000),
        s.paid(1_000_000, 64_000),
        s.line_voided("可口可乐可口可乐可口可乐", 5_000),
    ):
        assert columns(upper) <= 16 and columns(lower) <= 16
    assert spread("Change", "Rp 1.000.000.000", 16) == "Rp 1.000.000.000"
    assert columns(spread("合计", "RMB 12.50", 20)) == 20
