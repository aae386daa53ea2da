"""Spoken prompts: amounts read the way each shop's language reads money, against tables
written out by hand (Indonesian's se- forms, Mongolian's attributive forms before the
currency, Chinese 零, 两 and yuan-jiao-fen)."""

from __future__ import annotations

import pytest

from terminal.core.money import CURRENCIES
from terminal.core.spoken import chinese, indonesian, mongolian, sentence

IDR, MNT, CNY = CURRENCIES["IDR"], CURRENCIES["MNT"], CURRENCIES["CNY"]


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (15, "lima belas"),
        (21, "dua puluh satu"),
        (100, "seratus"),
        (115, "seratus lima belas"),
        (1000, "seribu"),
        (6700, "enam ribu tujuh ratus"),
        (57300, "lima puluh tujuh ribu tiga ratus"),
        (1_100_000, "satu juta seratus ribu"),
        (2_500_000_000, "dua miliar lima ratus juta"),
    ],
)
def test_indonesian(n, words):
    assert indonesian(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1000, "мянган"),
        (150, "зуун тавин"),
        (2500, "хоёр мянга таван зуун"),
        (12500, "арван хоёр мянга таван зуун"),
        (57300, "тавин долоон мянга гурван зуун"),
        (1_000_000, "нэг сая"),
        (1_000_000_000, "нэг тэрбум"),
    ],
)
def test_mongolian_before_the_currency(n, words):
    assert mongolian(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (12, "十二"),
        (20, "二十"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (2000, "两千"),
        (10050, "一万零五十"),
        (25000, "两万五千"),
        (57300, "五万七千三百"),
        (100_001_000, "一亿零一千"),
        (10_000_000, "一千万"),
    ],
)
def test_chinese(n, words):
    assert chinese(n) == words


def test_the_prompts_of_a_sale_in_each_shops_language():
    assert sentence("total", "id", 57_300, IDR) == "total lima puluh tujuh ribu tiga ratus rupiah"
    assert sentence("change", "id", 6_700, IDR) == "kembalian enam ribu tujuh ratus rupiah"
    assert sentence("card", "id", None, IDR) == "silakan masukkan atau tempelkan kartu Anda"
    assert sentence("total", "mn", 57_300, MNT) == "нийт тавин долоон мянга гурван зуун төгрөг"
    assert sentence("total", "zh", 1_250, CNY) == "合计十二元五角"
    assert sentence("change", "zh", 1_205, CNY) == "找零十二元零五分"
    assert sentence("total", "en", 5_730, CNY) == "total fifty-seven yuan thirty cents"
    assert sentence("change", "en", 1, CNY) == "change one cent"
    assert sentence("total", "zh", 220, CNY) == "合计两元两角"
    assert sentence("thanks", "xx", None, IDR) == "thank you"  # a language not spoken: English
    with pytest.raises(ValueError, match="amount"):
        sentence("total", "id", None, IDR)
