from decimal import Decimal as D

import pytest

from terminal.core.barcodes import (
    WeighedFormat,
    decode_weighed,
    gs1_check_digit,
    has_valid_check_digit,
    normalize,
    symbology,
)

FORMATS = [
    WeighedFormat("21", "price"),
    WeighedFormat("22", "weight", value_decimals=3),
]


@pytest.mark.parametrize(
    ("code", "valid", "kind"),
    [
        ("4006381333931", True, "ean13"),  # the classic GS1 example
        ("4006381333932", False, "ean13"),
        ("73513537", True, "ean8"),
        ("73513538", False, "ean8"),
        ("036000291452", True, "upca"),
        ("036000291453", False, "upca"),
        # hand-computed: 2212345012343 (sum of weighted digits 57 -> check 3)
        ("2212345012343", True, "ean13"),
        ("2100042157507", True, "ean13"),  # weighted sum 53 -> check 7
        ("12345", False, "internal"),
        ("SKU-1", False, "internal"),
    ],
)
def test_check_digits(code, valid, kind):
    assert has_valid_check_digit(code) is valid
    assert symbology(code) == kind


def test_check_digit_of_body():
    assert gs1_check_digit("400638133393") == 1
    assert gs1_check_digit("7351353") == 7
    assert gs1_check_digit("03600029145") == 2


def test_upca_is_looked_up_as_ean13():
    assert normalize("036000291452") == "0036000291452"
    assert normalize("4006381333931") == "4006381333931"


def test_weight_embedded():
    decoded = decode_weighed("2212345012343", FORMATS)
    assert (decoded.item_code, decoded.kind, decoded.value) == ("12345", "weight", D("1.234"))


def test_price_embedded():
    decoded = decode_weighed("2100042157507", FORMATS)
    assert (decoded.item_code, decoded.kind, decoded.value) == ("00042", "price", D(15750))


def test_prefix_without_a_format_is_not_weighed():
    assert decode_weighed("2912345012349", FORMATS) is None
    assert decode_weighed("4006381333931", FORMATS) is None


@pytest.mark.parametrize("prefix", ["19", "3", "2A"])
def test_weighed_prefix_must_be_restricted_range(prefix):
    with pytest.raises(ValueError, match="20-29"):
        WeighedFormat(prefix, "price")
