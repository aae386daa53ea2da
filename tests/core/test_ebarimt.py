"""e-barimt's rules without any service: tax types, the sale's figures shared over its
items, what a customer keeps after returns, the buyer's TIN."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from terminal.core import ebarimt as eb
from terminal.core.errors import PosError
from terminal.core.taxes import Tax, TaxClass

VAT = TaxClass("VAT", "VAT 10%", (Tax("VAT", "VAT", D(10)),))
CITY = TaxClass("VC", "VAT + city", (Tax("VAT", "VAT", D(10)), Tax("CITY", "City", D(2))))
ZERO = TaxClass("Z", "VAT 0%", (Tax("VAT", "VAT", D(0)),))
FREE = TaxClass("F", "exempt", ())
CLASSES = {c.code: c for c in (VAT, CITY, ZERO, FREE)}
SHOP = eb.Merchant("12345678901", "001", "7", "0101", {"F": "305", "Z": "501"})


def item(name, amount, tax, qty=D(1), code="4006381333931"):
    return eb.Item(name, name.upper(), code, "1234567", qty, amount, tax)


def test_tax_types_follow_the_vat_rate():
    assert [eb.tax_type(c) for c in (VAT, CITY, ZERO, FREE)] == [
        "VAT_ABLE",
        "VAT_ABLE",
        "VAT_ZERO",
        "VAT_FREE",
    ]


def test_each_tax_type_is_a_sub_receipt_and_every_figure_adds_up():
    items = [
        item("a", 1100, "VAT"),
        item("b", 1120, "VC"),
        item("c", 999, "VC", D(3)),
        item("d", 500, "Z"),
        item("e", 700, "F", code=""),
    ]
    body = eb.receipt_request(items, CLASSES, SHOP, suffix="000042", sale_label="T01-000042")
    subs = {r["taxType"]: r for r in body["receipts"]}
    assert list(subs) == ["VAT_ABLE", "VAT_FREE", "VAT_ZERO"]
    able = subs["VAT_ABLE"]
    assert able["totalAmount"] == 1100 + 1120 + 999
    # VAT 1,100 -> 100; VAT+city on 2,119: base 1,892, VAT 189, city 38
    assert (able["totalVAT"], able["totalCityTax"]) == (100 + 189, 38)
    assert sum(i["totalVAT"] for i in able["items"]) == able["totalVAT"]
    assert sum(i["totalCityTax"] for i in able["items"]) == 38
    assert subs["VAT_ZERO"]["items"][0]["taxProductCode"] == "501"
    assert subs["VAT_FREE"]["items"][0]["taxProductCode"] == "305"
    assert subs["VAT_FREE"]["items"][0]["barCodeType"] == "UNDEFINED"
    assert "taxProductCode" not in able["items"][0]
    assert able["items"][2]["unitPrice"] == 333.0 and able["items"][2]["qty"] == 3.0
    assert body["totalAmount"] == sum(r["totalAmount"] for r in body["receipts"])
    assert body["totalVAT"] == 289 and body["totalCityTax"] == 38
    assert body["districtCode"] == "0101" and body["data"] == {"saleId": "T01-000042"}


def test_amounts_in_a_currency_with_decimals_are_major_units():
    body = eb.receipt_request(
        [item("a", 1234, "VAT")], CLASSES, SHOP, suffix="1", sale_label="x", exponent=2
    )
    assert body["totalAmount"] == 12.34 and body["receipts"][0]["items"][0]["unitPrice"] == 12.34


def test_what_the_customer_keeps_after_returns():
    sold = [item("a", 3000, "VAT", D(3)), item("b", 500, "VAT"), item("kg", 1250, "VAT", D("1.25"))]
    kept = eb.kept_items(sold, {0: (D(1), 1000), 2: (D("0.5"), 500)})
    assert [(k.name, k.quantity, k.amount) for k in kept] == [
        ("a", D(2), 2000),
        ("b", D(1), 500),
        ("kg", D("0.75"), 750),
    ]
    assert eb.kept_items(sold, {0: (D(3), 3000), 1: (D(1), 500), 2: (D("1.25"), 1250)}) == []


def test_a_correction_names_the_receipt_it_replaces_and_a_b2b_its_buyer():
    body = eb.receipt_request(
        [item("a", 100, "VAT")],
        CLASSES,
        SHOP,
        suffix=eb.bill_suffix(3, correction=True),
        sale_label="R-T01-000003",
        replaces="9" * 33,
        buyer_tin="51234567890",
    )
    assert body["inactiveId"] == "9" * 33 and body["billIdSuffix"] == "9000003"
    assert body["type"] == "B2B_RECEIPT" and body["consumerNo"] is None
    with pytest.raises(ValueError):
        eb.receipt_request([], CLASSES, SHOP, suffix="1", sale_label="x")


@pytest.mark.parametrize("typed", ["51234567890", " 5123 4567 890 ", "12345678901234"])
def test_a_tin_has_11_to_14_digits(typed):
    assert eb.check_tin(typed) == typed.replace(" ", "")


@pytest.mark.parametrize(
    "typed", ["", "1234567", "1234567890", "123456789012345", "٥١٢٣٤٥٦٧٨٩٠", "5123456789x"]
)
def test_a_wrong_tin_is_refused(typed):
    with pytest.raises(PosError, match="TIN"):
        eb.check_tin(typed)
