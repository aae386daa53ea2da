"""Mongolian and Chinese on screen: the bundled font has every character the screens show
in those languages (no tofu boxes), and it is the one Kivy draws with for them."""

from __future__ import annotations

import tomllib
import unicodedata

import pytest
from babel.messages.pofile import read_po
from PIL import ImageFont

from terminal.i18n import LOCALE_DIR
from terminal.services.demo_stores import CHINA, MONGOLIA
from terminal.ui.typeface import UI_FONT
from tests.conftest import ROOT

pytestmark = pytest.mark.ui
NOT_A_CHARACTER = "\U0010fffd"  # unassigned: the font draws its "missing glyph" for it


def catalogue_texts(locale: str) -> list[str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "pos.po"
    if not path.exists():  # (the catalogue is not there yet: its test is the i18n check)
        return []
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale=None)
    texts = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        texts += [s for s in strings if s]
    return texts


def store_texts(name: str) -> list[str]:
    """What the store file shows: the shop's name, address, footer, tax and tier names."""
    doc = tomllib.loads((ROOT / "config" / "stores" / f"{name}.toml").read_text("utf-8"))
    store = doc["store"]
    texts = [store["name"], store["tax_id"], *store["address"], *store["receipt_footer"]]
    for tax_class in doc["taxes"].values():
        texts += [tax_class["name"], *(rate["name"] for rate in tax_class["rates"])]
    texts += [tier["name"] for tier in doc.get("loyalty", {}).get("tiers", [])]
    return texts


def demo_texts(store) -> list[str]:
    texts = [p.name for p in store.products()]
    texts += [store.cashier[1], store.supervisor[1], *store.member[:3]]
    return texts + [promotion.name for promotion in store.promotions(_now())]


def _now():
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime(2026, 1, 1, tzinfo=UTC)


def missing_characters(texts: list[str]) -> set[str]:
    font = ImageFont.truetype(str(UI_FONT), 20)

    def drawn(ch: str):
        mask = font.getmask(ch)
        return mask.size, bytes(mask)

    notdef = drawn(NOT_A_CHARACTER)
    chars = {ch for text in texts for ch in text}
    shown = {ch for ch in chars if not ch.isspace() and unicodedata.category(ch)[0] != "C"}
    return {ch for ch in shown if drawn(ch) == notdef}


@pytest.mark.parametrize(
    ("locale", "store_file", "store"), [("mn", "mn", MONGOLIA), ("zh", "cn", CHINA)]
)
def test_the_font_draws_every_character_of_the_language(locale, store_file, store):
    texts = catalogue_texts(locale) + store_texts(store_file) + demo_texts(store)
    texts += ["₮", "¥", "\u2022"]  # the MNT sign, the CNY sign, a PIN's dots
    assert missing_characters(texts) == set()


def test_the_check_would_see_a_missing_character():
    assert missing_characters(["\u2328"]) == {"\u2328"}  # (a keyboard symbol it lacks)


def test_mongolian_and_chinese_switch_kivy_s_default_font(window):
    from kivy.core.text import DEFAULT_FONT, LabelBase  # noqa: PLC0415
    from kivy.uix.label import Label  # noqa: PLC0415

    from terminal.ui.typeface import use_font_for  # noqa: PLC0415

    roboto = LabelBase._fonts[DEFAULT_FONT]
    try:
        for locale in ("mn", "zh"):
            use_font_for(locale)
            label = Label(text="Өглөө ₮ 乐家")
            label.texture_update()
            assert label._label.options["font_name_r"] == str(UI_FONT)
        use_font_for("en")
        assert LabelBase._fonts[DEFAULT_FONT] == roboto
        label = Label(text="Toko")
        label.texture_update()
        assert label._label.options["font_name_r"].endswith("Roboto-Regular.ttf")
    finally:
        use_font_for("en")


def test_reports_keep_their_columns_unless_roboto_mono_lacks_a_character():
    from terminal.ui.typeface import MONO_FONT, mono_font  # noqa: PLC0415

    assert mono_font("mn", "Нийт дүн        32,362 MNT") == MONO_FONT  # Cyrillic: it has it
    assert mono_font("mn", "20,000 ₮ x 2 = 40,000 ₮") == str(UI_FONT)
    assert mono_font("zh", "合计 ¥26.85") == str(UI_FONT)
    assert mono_font("id", "Total Rp 32.000") == MONO_FONT
