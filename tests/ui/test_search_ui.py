"""The search screen teaches the codes: each result shows its SKU and its barcode (or the
scale's item number), so a cashier can type it next time."""

from __future__ import annotations

import re

import pytest

from tests.ui.test_cash_sale_ui import sign_in

pytestmark = pytest.mark.ui


def plain(markup: str) -> str:
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", markup)


def test_results_show_the_sku_and_the_barcode(app, terminal, tmp_path):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.key("f3")
    ui.wait_until(lambda: root.current == "search", "the search screen")
    search = root.get_screen("search")
    ui.type("teh botol")
    buttons = list(reversed(search.ids.results.children))
    shown = plain(buttons[0].text).split("\n")
    assert shown == ["Teh Botol Sosro 450 ml", "Rp 5.500", "TEH-BTL  \u00b7  8991002101111"]
    ui.screenshot(tmp_path / "search.png")
    # what it shows is what a cashier can type: the SKU adds the tea
    ui.key("escape")
    ui.scan("TEH-BTL".lower())
    assert [line.product.sku for line in pos.cart.lines] == ["TEH-BTL"]


def test_a_weighed_product_shows_its_price_per_kg_and_scale_number(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f3")
    ui.wait_until(lambda: root.current == "search", "the search screen")
    search = root.get_screen("search")
    ui.type("apel")
    (apples,) = [b for b in search.ids.results.children if "Apel Fuji" in b.text]
    lines = plain(apples.text).split("\n")
    assert lines[1] == "Rp 42.000 per kg" and "scale item 10001" in lines[2]
    assert apples.height >= apples.texture_size[1]  # three lines, none cut
