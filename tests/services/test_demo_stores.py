"""The three demo stores: goods with valid codes of their country, in their store's tax
classes; a new database seeded with the store of its currency."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from terminal.config import load_settings, parse_settings
from terminal.config_overlay import overlay
from terminal.core.barcodes import has_valid_check_digit
from terminal.services.bootstrap import build_terminal
from terminal.services.demo_stores import CHINA, DEMO_STORES, INDONESIA, MONGOLIA, demo_store
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import CONFIG, ROOT, load_doc

STORE_FILES = {"MNT": ROOT / "config/stores/mn.toml", "CNY": ROOT / "config/stores/cn.toml"}


def store_settings(currency: str, data_dir: Path):
    doc = load_doc()
    if currency in STORE_FILES:
        doc = overlay(doc, tomllib.loads(STORE_FILES[currency].read_text(encoding="utf-8")))
    doc["terminal"]["data_dir"] = str(data_dir)
    return parse_settings(doc)


@pytest.mark.parametrize(("store", "prefixes"), [(MONGOLIA, ("865",)), (CHINA, ("69",))])
def test_goods_scan_with_their_country_prefix(store, prefixes):
    products = store.products()
    assert 20 <= len(products) <= 30
    assert len({p.sku for p in products}) == len(products)
    for product in products:
        assert product.price > 0, product.sku
        for code in product.barcodes:
            assert code.startswith(prefixes) and len(code) == 13, code
            assert has_valid_check_digit(code), code
        assert product.barcodes or (product.sold_by_weight and product.plu), product.sku


@pytest.mark.parametrize("store", list(DEMO_STORES.values()))
def test_goods_name_their_store_file_tax_classes(store, tmp_path):
    settings = store_settings(store.currency, tmp_path)
    assert settings.store.currency.code == store.currency
    assert {p.tax_class for p in store.products()} <= set(settings.tax_classes)
    assert store.product(store.scanned_sku).barcodes  # what the scripted sale scans
    assert any(p.plu == store.weighed_plu for p in store.products())
    assert store.cashier[0::3] == (1, "1357") and store.supervisor[0::3] == (2, "2580")
    assert store.promotions  # (local offers)


def test_mongolian_goods_carry_a_classification_and_both_tax_kinds():
    products = MONGOLIA.products()
    for product in products:
        assert len(product.classification) == 7 and product.classification.isdigit()
    classes = {p.tax_class for p in products}
    assert classes == {"VAT", "VAT_CITY", "FREE"}
    assert all(any("\u0400" <= ch <= "\u04ff" for ch in p.name) for p in products)


def test_chinese_goods_are_in_both_vat_rates_and_in_chinese():
    products = CHINA.products()
    assert {p.tax_class for p in products} == {"VAT13", "VAT9"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.name) for p in products)


def test_the_demo_is_chosen_by_currency():
    assert demo_store("MNT") is MONGOLIA and demo_store("CNY") is CHINA
    assert demo_store("IDR") is INDONESIA


@pytest.mark.parametrize("currency", ["MNT", "CNY"])
def test_a_new_database_gets_its_store_s_demo(currency, tmp_path, clock):
    settings = store_settings(currency, tmp_path / "var")
    terminal = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    store = demo_store(currency)
    pos = terminal.pos
    assert {p.sku for p in pos.catalogue.products} == {p.sku for p in store.products()}
    names = {c.id: c.name for c in pos.cashiers()}
    assert names == {1: store.cashier[1], 2: store.supervisor[1]}
    cashier = pos.sign_in("1", "1357")
    assert cashier.name == store.cashier[1]
    by_sku = {p.sku: p for p in pos.catalogue.products}
    for product in store.products():  # kept as the demo has them (the БҮНА code too)
        assert by_sku[product.sku] == product, product.sku
    terminal.stop()


def test_the_shipped_files_load_with_the_cli_paths():
    for path in STORE_FILES.values():
        assert load_settings(CONFIG, path).store.demo_catalogue
