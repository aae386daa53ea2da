"""A price list from a spreadsheet: taken whole when every row is good, refused with every
broken row named by its line and column otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core.barcodes import gs1_check_digit
from terminal.core.catalogue_csv import CatalogueCsvError, parse_catalogue_csv
from terminal.core.money import currency

IDR = currency("IDR")
CLASSES = ("PPN", "PPN_PB1", "EXEMPT")


def ean13(body: str) -> str:
    return body + str(gs1_check_digit(body))


TEH, AQUA = ean13("899100210111"), ean13("899999909999")


def parse(text: str, cur=IDR):
    return parse_catalogue_csv(text, currency=cur, tax_classes=CLASSES)


def problems(text: str, cur=IDR) -> list[str]:
    with pytest.raises(CatalogueCsvError) as refused:
        parse(text, cur)
    return [str(e) for e in refused.value.errors]


def test_a_good_price_list_becomes_the_products():
    products = parse(
        "\ufeffsku,name,price,tax_class,barcodes,sold_by_weight,plu,category\n"
        f"TEH-BTL,Teh Botol 450 ml,5.500,PPN,{TEH},no,,minuman\n"
        f"AQUA-600,Aqua 600 ml,3500,PPN,{AQUA} A600,,,minuman\n"
        "\n"
        "APEL,Apel Fuji (per kg),42.000,EXEMPT,,yes,10001,buah\n"
    )
    teh, aqua, apel = products
    assert (teh.sku, teh.name, teh.price, teh.tax_class) == (
        "TEH-BTL",
        "Teh Botol 450 ml",
        5500,
        "PPN",
    )
    assert aqua.barcodes == (AQUA, "A600") and aqua.category == "minuman"
    assert apel.sold_by_weight and apel.plu == "10001" and apel.price == 42000


def test_a_semicolon_spreadsheet_and_columns_in_any_order():
    (tea, rice) = parse(
        "price;tax_class;name;sku\n1.50;EXEMPT;Tea bag;TB-1\n1,250.5;EXEMPT;Rice 25 kg;R25\n",
        currency("CNY"),
    )
    assert (tea.sku, tea.price, rice.price) == ("TB-1", 150, 125050)


def test_every_broken_row_is_named_and_nothing_is_taken():
    found = problems(
        "sku,name,price,tax_class,barcodes,sold_by_weight,plu\n"
        f"TEH,Teh,5500,PPN,{TEH},no,\n"
        "GULA,,-100,VAT,,no,\n"  # no name, a negative price, an unknown tax class
        f"TEH,Teh lagi,abc,PPN,{TEH[:-1]}0,maybe,\n"  # sku twice, price, check digit, yes/no
        "APEL,Apel,42000,EXEMPT,,yes,\n"  # weighed without its PLU
        f"KOPI,Kopi,9000,PPN,{TEH},,\n"  # a barcode another product has
        "ROTI,Roti,1000,PPN\n"  # too few cells
    )
    assert found == [
        "line 3, name: empty",
        "line 3, price: -100: below zero",
        "line 3, tax_class: 'VAT' is not a tax class here (EXEMPT, PPN, PPN_PB1)",
        "line 4, price: 'abc' is not an amount in IDR",
        f"line 4, barcodes: {TEH[:-1]}0: wrong check digit",
        "line 4, sold_by_weight: 'maybe': yes or no",
        "line 5, plu: a product sold by weight needs its 5-digit scale item number",
        f"line 6, barcodes: {TEH} is on line 2 too",
        "line 7: 4 cells, the header has 7",
    ]


def test_a_sku_twice_is_named_with_the_first_line():
    found = problems("sku,name,price,tax_class\nA,One,1,PPN\nB,Two,2,PPN\nA,Three,3,PPN\n")
    assert found == ["line 4, sku: A is on line 2 too"]


def test_a_upc_a_and_its_ean_13_are_one_barcode():
    upc = "036000291452"
    found = problems(f"sku,name,price,tax_class,barcodes\nA,One,1,PPN,{upc}\nB,Two,2,PPN,0{upc}\n")
    assert found == [f"line 3, barcodes: 0{upc} is on line 2 too"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "line 1: the file is empty: no header"),
        ("sku,name,price\nA,B,1\n", "line 1, tax_class: missing column"),
        ("sku,name,price,tax_class,colour\n", "line 1, colour: unknown column"),
        ("sku,name,price,tax_class,name\n", "line 1, name: the column is named twice"),
        ('sku,name,price,tax_class\nA,B,"1\n', "not CSV"),
        ("sku,name,price,tax_class\nA,B,50,000,PPN\n", "5 cells, the header has 4"),
        ("sku,name,price,tax_class\nA B,x,1,PPN\n", "line 2, sku: 'A B'"),
        ("sku,name,price,tax_class\nA,x,1e999999,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class\nA,x,NaN,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class\nA,x,1.5,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class\nA,x,12.50.0,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class\nA,x,²5,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class\nA,x,\u0665,PPN\n", "is not an amount in IDR"),
        ("sku,name,price,tax_class,plu\nA,x,1,PPN,123\n", "line 2, plu: '123': 5 digits"),
        (f"sku,name,price,tax_class\nA,{'x' * 61},1,PPN\n", "61 characters, at most 60"),
    ],
)
def test_a_malformed_file_is_refused_with_its_reason(text, says):
    assert any(says in line for line in problems(text)), problems(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_taken_or_refused_never_a_crash(text):
    try:
        parse("sku,name,price,tax_class,barcodes,sold_by_weight,plu,category\n" + text)
    except CatalogueCsvError as refused:
        assert refused.errors
