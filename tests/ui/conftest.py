"""The real Kivy window under Xvfb (Mesa software GL), one per test session.

Kivy reads its configuration when first imported, so this runs at import time, before
any test module imports Kivy. Without a display, an Xvfb server is started here.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

import pytest

from terminal.config import UiSettings
from terminal.i18n import set_locale
from terminal.ui.kivy_setup import configure_kivy
from tests.xvfb import start_xvfb


def _ensure_display() -> None:
    if os.environ.get("DISPLAY"):
        return
    display, proc = start_xvfb()
    os.environ["DISPLAY"] = display
    atexit.register(proc.terminate)


_ensure_display()
UI = UiSettings(fullscreen=False, width=800, height=480, dpi=133)
configure_kivy(UI, Path(tempfile.mkdtemp(prefix="pos-kivy-")), headless=True)
set_locale("en")


@pytest.fixture(scope="session")
def window():
    from kivy.base import EventLoop  # noqa: PLC0415 - Kivy only after configure_kivy
    from kivy.core.window import Window  # noqa: PLC0415

    EventLoop.ensure_window()
    return Window


@pytest.fixture
def app(window, terminal, settings):
    """The app's root on the real window, and a driver; 800x480 unless a test resizes."""
    from terminal.ui.app import PosRoot  # noqa: PLC0415
    from terminal.ui.driver import UiDriver  # noqa: PLC0415

    window.size = (800, 480)
    root = PosRoot(terminal.pos, settings)
    root.attach()
    window.add_widget(root)
    driver = UiDriver()
    driver.frames(3)
    yield root, driver
    root.detach()
    window.remove_widget(root)
    driver.frames(1)
