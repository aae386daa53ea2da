"""The scripted tour (`make run` without a display, `make screenshots`) runs through in
the real window and leaves its pictures and the receipt."""

from __future__ import annotations

import pytest
from PIL import Image

from terminal.store.journal import read_entries

pytestmark = pytest.mark.ui


def test_the_tour_leaves_its_screenshots_and_the_receipt(window, terminal, settings, tmp_path):
    from terminal.ui.demo import run_demo  # noqa: PLC0415 - Kivy only after the UI conftest

    window.size = (800, 480)
    shots = run_demo(terminal.pos, settings, tmp_path)
    names = [p.name for p in shots]
    for name in ("1-sign-in.png", "2a-search.png", "2b-keyboard.png", "2-sale.png"):
        assert name in names
    assert "5-refund.png" in names and "6-refund-done.png" in names
    (refund,) = [e["payload"] for e in read_entries(terminal.pos.db, types=("refund",))]
    assert refund["tenders"] == {"cash": 5500}  # one tea back, in cash
    for path in shots:
        with Image.open(path) as image:
            assert image.size[0] > 100 and image.size[1] > 100, path
    assert terminal.pos.printer.jobs  # the sale's receipt was printed


@pytest.mark.parametrize(
    ("currency", "sold", "price"), [("MNT", "Кока-Кола 1.25 л", 3500), ("CNY", "冰红茶", 350)]
)
def test_the_tour_sells_each_demo_store_s_own_goods(window, clock, tmp_path, currency, sold, price):
    from hal.printer.preview import interpret  # noqa: PLC0415
    from terminal.i18n import set_locale  # noqa: PLC0415
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415
    from terminal.ui.demo import run_demo  # noqa: PLC0415
    from terminal.ui.typeface import use_font_for  # noqa: PLC0415
    from tests.services.test_demo_stores import store_settings  # noqa: PLC0415

    settings = store_settings(currency, tmp_path / "var")
    terminal = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    set_locale(settings.store.locale)
    try:
        window.size = (800, 480)
        shots = run_demo(terminal.pos, settings, tmp_path / "shots")
    finally:
        set_locale("en")
        use_font_for("en")
    assert "6-refund-done.png" in [p.name for p in shots]
    (refund,) = [e["payload"] for e in read_entries(terminal.pos.db, types=("refund",))]
    assert refund["tenders"] == {"cash": price}  # one of the two scanned back, in cash
    receipt = "\n".join(interpret(terminal.pos.printer.jobs[0][1]).lines)
    if currency == "MNT":  # (Chinese prints as raster on this profile: no text to read)
        assert sold in receipt
    terminal.stop()
