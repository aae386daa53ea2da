"""The real Kivy window under Xvfb (Mesa software GL), one per test session.

Kivy reads its configuration when first imported, so this runs at import time, before
any test module imports Kivy. Without a display, an Xvfb server is started here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from terminal.config import UiSettings
from terminal.i18n import set_locale
from terminal.ui.kivy_setup import configure_kivy

SCREEN = "1920x1080x24"


def _start_xvfb() -> None:
    if os.environ.get("DISPLAY"):
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("Xvfb is not installed: run `make test`, which installs it")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # Xvfb writes its display number when it is ready
    if not number:
        raise RuntimeError("Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    atexit.register(proc.terminate)


_start_xvfb()
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
