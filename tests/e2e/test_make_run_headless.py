"""`make run` on a machine with no display: the script the Makefile calls, for real.

It runs a scripted cash sale in the real app under Xvfb (xvfb-run) and leaves the
screenshots, the receipt's ESC/POS stream and its PNG preview under the data directory.
"""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image

from hal.printer.preview import interpret
from tests.conftest import CONFIG, ROOT

RUN_DEBS = ["xvfb", "xauth", "libgl1-mesa-dri", "libmtdev1"]


def test_make_run_without_a_display_sells_and_saves_what_it_saw(tmp_path):
    data = tmp_path / "var"
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{data}"'))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        ["scripts/run-simulator.sh", sys.executable, str(config), *RUN_DEBS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No display: running a scripted cash sale" in done.stdout

    shots = sorted((data / "screenshots").glob("*.png"))
    assert [p.name for p in shots] == [
        "1-sign-in.png",
        "1b-opening-float.png",
        "2-sale.png",
        "2a-search.png",
        "2b-keyboard.png",
        "3-payment.png",
        "4-change.png",
        "5-refund.png",
        "6-refund-done.png",
    ]
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (800, 480)  # the Pi Touch Display the script emulates
            assert len(set(image.convert("L").getdata())) > 10  # drawn, not blank
    stream = (data / "receipts" / "T01-000001.escpos").read_bytes()
    assert stream.startswith(b"\x1b@")
    text = "\n".join(interpret(stream).lines)
    assert "Teh Botol" in text and "Fuji" in text
    assert "100.000" in text  # tendered, as typed in the script
    with Image.open(data / "receipts" / "T01-000001.png") as preview:
        assert preview.height > 300
    assert str(data / "receipts" / "T01-000001.png") in done.stdout
