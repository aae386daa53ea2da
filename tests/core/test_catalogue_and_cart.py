from decimal import Decimal as D

import pytest

from terminal.core.cart import Cart
from terminal.core.catalogue import Catalogue, Product
from terminal.core.errors import InvalidBarcode, QuantityError, UnknownCode


def test_lookup_by_ean13_upca_ean8_and_sku(catalogue):
    assert catalogue.lookup("8991002101111").product.sku == "TEH-01"
    assert catalogue.lookup("089686010947").product.sku == "INDOMIE"  # UPC-A as printed
    assert catalogue.lookup("0089686010947").product.sku == "INDOMIE"  # same code read as EAN-13
    assert catalogue.lookup("73513537").product.sku == "BERAS-5"
    assert catalogue.lookup("indomie").product.sku == "INDOMIE"


def test_weight_embedded_barcode_gives_kilograms(catalogue):
    scan = catalogue.lookup("2212345012343")  # item 12345, 1234 g
    assert (scan.product.sku, scan.quantity, scan.amount) == ("APEL", D("1.234"), None)


def test_price_embedded_barcode_fixes_the_amount(catalogue):
    scan = catalogue.lookup("2100042157507")  # item 00042, Rp 15.750
    assert scan.amount == 15750
    assert scan.quantity == D("1.050")  # 15750 / 15000 per kg


def test_unknown_and_misread_codes_are_told_apart(catalogue):
    with pytest.raises(UnknownCode, match="Unknown code 4006381333931"):
        catalogue.lookup("4006381333931")  # valid EAN-13, not in this shop
    with pytest.raises(InvalidBarcode, match="wrong check digit"):
        catalogue.lookup("8991002101112")
    with pytest.raises(UnknownCode):
        catalogue.lookup("2212399012344")  # weighed code whose item is not sold here
    with pytest.raises(UnknownCode):
        catalogue.lookup("   ")


def test_internal_codes_and_a_numeric_sku_with_no_check_digit(catalogue):
    """A shop's own labels (any text, any length) are barcodes too; a numeric SKU that is
    GTIN-shaped but has no valid check digit is still found, not refused as a misread."""
    shop = Catalogue(
        [
            Product("55512345", "Roti Sobek", 12000, "PPN", ("TK-0001", "4711")),
            Product("TEH-01", "Teh Botol 450ml", 5500, "PPN", ("8991002101111",)),
        ],
        catalogue.tax_classes,
    )
    assert shop.lookup("TK-0001").product.name == "Roti Sobek"
    assert shop.lookup("4711").product.name == "Roti Sobek"
    assert shop.lookup("55512345").product.name == "Roti Sobek"  # 8 digits, check digit wrong
    with pytest.raises(InvalidBarcode):
        shop.lookup("55512346")  # 8 digits, wrong check digit, not a SKU: a misread
    with pytest.raises(UnknownCode):
        shop.lookup("TK-0002")


def test_catalogue_refuses_a_product_with_a_bad_barcode(catalogue):
    with pytest.raises(ValueError, match="bad check digit"):
        Catalogue([Product("X", "X", 1, "PPN", ("4006381333932",))], catalogue.tax_classes)


def test_search_by_name_prefers_prefix_matches(catalogue):
    names = [p.name for p in catalogue.search("go")]
    assert names == ["Indomie Goreng"]
    assert catalogue.search("ap")[0].sku == "APEL"
    assert catalogue.search("") == []


def test_cart_totals_and_remove(catalogue, clock):
    cart = Cart(catalogue, clock, prices_include_tax=True)
    cart.add_code("8991002101111")
    cart.add_code("2212345012343")  # 1.234 kg x 42000 = 51828
    cart.set_quantity(0, "3")
    assert [line.amount for line in cart.lines] == [16500, 51828]
    assert cart.total == 68328
    cart.remove(1)
    assert cart.total == 16500
    cart.clear()
    assert cart.is_empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "more than zero"),
        ("-2", "more than zero"),
        ("1.5", "whole numbers only"),
        ("1000", "at most 999"),
        ("1e9", "at most 999"),
        ("abc", "not a quantity"),
        ("NaN", "more than zero"),
    ],
)
def test_bad_quantity_is_refused_and_the_line_is_unchanged(catalogue, clock, text, message):
    cart = Cart(catalogue, clock, prices_include_tax=True)
    cart.add_code("TEH-01")
    with pytest.raises(QuantityError, match=message):
        cart.set_quantity(0, text)
    assert cart.lines[0].quantity == 1


def test_weighed_quantity_rules(catalogue, clock):
    cart = Cart(catalogue, clock, prices_include_tax=True)
    cart.add_code("APEL")  # a weighed product typed by SKU: the cashier enters the weight
    assert cart.set_quantity(0, "0,5").quantity == D("0.500")
    for bad in ("0.0005", "150", "1e30", "1E+400"):
        with pytest.raises(QuantityError, match="steps of 1 g"):
            cart.set_quantity(0, bad)
    assert cart.lines[0].quantity == D("0.500")


def test_scale_label_lines_keep_the_label_values(catalogue, clock):
    cart = Cart(catalogue, clock, prices_include_tax=True)
    cart.add_code("2212345012343")  # weight label
    cart.add_code("2100042157507")  # price label
    for index in (0, 1):
        with pytest.raises(QuantityError, match="on its scale label"):
            cart.set_quantity(index, "2")
    assert [line.amount for line in cart.lines] == [51828, 15750]


def test_a_label_showing_zero_is_refused(catalogue, clock):
    from terminal.core.barcodes import gs1_check_digit  # noqa: PLC0415

    cart = Cart(catalogue, clock, prices_include_tax=True)
    for body in ("221234500000", "210004200000"):  # 0 g, Rp 0
        with pytest.raises(QuantityError, match="shows zero"):
            cart.add_code(body + str(gs1_check_digit(body)))
    assert cart.is_empty


def test_plu_must_have_the_label_item_code_length(catalogue):
    with pytest.raises(ValueError, match="PLU must be 5 digits"):
        Catalogue(
            [Product("X", "X", 1, "PPN", (), sold_by_weight=True, plu="42")], catalogue.tax_classes
        )
