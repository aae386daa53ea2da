"""Kivy's metrics follow the configured display: text and buttons keep their size in
millimetres (a fresh interpreter each, since Kivy reads its configuration once)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = """
import tempfile, pathlib
from terminal.config import UiSettings
from terminal.ui.kivy_setup import configure_kivy
configure_kivy(UiSettings(fullscreen=False, dpi={dpi}), pathlib.Path(tempfile.mkdtemp()),
               headless=True)
from kivy.metrics import Metrics, dp, mm
print(Metrics.density, round(dp(100)), round(mm(9)))
"""


@pytest.mark.parametrize(
    ("dpi", "density", "dp100", "mm9"),
    [(133, 1.0, 100, 47), (169, 1.271, 127, 60), (145, 1.09, 109, 51)],
)
def test_sizes_follow_the_dpi(dpi, density, dp100, mm9):
    env = {"KIVY_NO_CONSOLELOG": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(dpi=dpi)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert (float(out[0]), int(out[1]), int(out[2])) == (density, dp100, mm9)
