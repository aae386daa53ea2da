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
