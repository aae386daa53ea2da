"""A cashier picks their language at sign-in, in the real window: the screens speak it for
the session (font included), receipts keep the shop's, and sign-out brings the shop's
language back."""

from __future__ import annotations

import dataclasses

import pytest

from terminal.i18n import current_locale, set_locale
from tests.ui.test_cash_sale_ui import TEA, sign_in
from tests.ui.test_operations_ui import pay_exact_cash

pytestmark = pytest.mark.ui
HINT_EN = "Sign in: choose your name or type your number, then your PIN"


def with_languages(terminal, settings, languages):
    store = dataclasses.replace(settings.store, languages=languages)
    settings = dataclasses.replace(settings, store=store)
    terminal.pos.settings = settings
    return settings


@pytest.fixture
def picker(window, terminal, settings):
    """The app on the real window, its shop offering Indonesian and English, and the UI
    started in English (as the UI tests run)."""
    from terminal.ui.app import PosRoot  # noqa: PLC0415
    from terminal.ui.driver import UiDriver  # noqa: PLC0415

    set_locale("en")
    settings = with_languages(terminal, settings, ("id", "en", "zh"))
    window.size = (800, 480)
    root = PosRoot(terminal.pos, settings)
    root.attach()
    window.add_widget(root)
    ui = UiDriver()
    ui.frames(3)
    yield root, ui
    root.detach()
    window.remove_widget(root)
    set_locale("en")
    from terminal.ui.typeface import use_font_for  # noqa: PLC0415

    use_font_for("en")
    ui.frames(1)


def hint(root) -> str:
    """The sign-in screen's instructions, as its kv rule made them."""
    return root.get_screen("signin").ids.hint.text


def language_button(root, name: str):
    row = root.get_screen("signin").ids.languages
    return next(button for button in row.children if button.text == name)


def test_a_cashier_s_language_lasts_the_session(picker, terminal):
    from kivy.core.text import DEFAULT_FONT, LabelBase  # noqa: PLC0415

    root, ui = picker
    signin = root.get_screen("signin")
    assert signin.languages_shown
    assert [b.text for b in reversed(signin.ids.languages.children)] == [
        "Bahasa Indonesia",
        "English",
        "中文",
    ]
    assert hint(root) == HINT_EN
    ui.type("1")  # the number typed before the choice stays
    ui.tap(language_button(root, "Bahasa Indonesia"))
    ui.frames(3)
    assert current_locale() == "id"
    signin = root.get_screen("signin")  # made anew, in Indonesian
    assert hint(root) == "Masuk: pilih nama Anda atau ketik nomor Anda, lalu PIN"
    assert signin.operator == "1" and root.current == "signin"
    ui.key("enter")
    ui.type("1357")
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the sale screen")
    sale = root.get_screen("sale")
    assert sale.cashier_name == "Kasir: Sari"
    ui.scan(TEA)
    pay_exact_cash(root, ui)
    ui.key("f10")
    ui.wait_until(lambda: root.current == "signin", "the sign-in screen")
    ui.frames(2)
    assert current_locale() == "en"  # the shop's (here: the one the terminal started in)
    assert hint(root) == HINT_EN
    assert LabelBase._fonts[DEFAULT_FONT][0].endswith("Roboto-Regular.ttf")


def test_chinese_switches_the_font_and_sign_out_switches_it_back(picker, terminal):
    from kivy.core.text import DEFAULT_FONT, LabelBase  # noqa: PLC0415

    from terminal.ui.typeface import UI_FONT  # noqa: PLC0415

    root, ui = picker
    ui.tap(language_button(root, "中文"))
    ui.frames(3)
    assert current_locale() == "zh"
    assert LabelBase._fonts[DEFAULT_FONT][0] == str(UI_FONT)
    signin = root.get_screen("signin")
    label = signin.ids.hint
    assert label.text != HINT_EN
    assert label._label.options["font_name_r"] == str(UI_FONT)  # drawn with it
    sign_in(root, ui)
    ui.key("f10")
    ui.wait_until(lambda: root.current == "signin", "the sign-in screen")
    assert current_locale() == "en"
    assert LabelBase._fonts[DEFAULT_FONT][0].endswith("Roboto-Regular.ttf")


def test_a_receipt_stays_in_the_shop_s_language(picker, terminal):
    root, ui = picker
    ui.tap(language_button(root, "English"))  # the UI in English; the shop is Indonesian
    sign_in(root, ui)
    ui.scan(TEA)
    pay_exact_cash(root, ui)
    from hal.printer.preview import interpret  # noqa: PLC0415

    text = "\n".join(interpret(terminal.pos.printer.jobs[-1][1]).lines)
    assert "Terima kasih" in text and "TUNAI" in text.upper()


def test_one_language_shows_no_picker(app):
    root, _ui = app
    signin = root.get_screen("signin")
    assert not signin.languages_shown
    assert signin.ids.languages.height == 0 and not signin.ids.languages.children
