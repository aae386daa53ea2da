"""Kivy reads its configuration at import time: set it from our settings before any import."""

from __future__ import annotations

import os
from pathlib import Path

from terminal.config import UiSettings


def configure_kivy(ui: UiSettings, data_dir: Path, *, headless: bool = False) -> None:
    """``headless``: no input devices are opened (scripted runs inject their own events)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our CLI owns the command line
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # Kivy keeps its logger; ours stays ours
    kivy_home = data_dir / "kivy"  # not ~/.kivy on a kiosk
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", "pos-terminal")  # findable under X
    os.environ["KIVY_DPI"] = str(ui.dpi)  # so that kivy.metrics.mm() is real millimetres
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    from kivy.config import Config  # noqa: PLC0415 - reads the environment set above

    Config.set("kivy", "exit_on_escape", "0")  # Escape is the Back key of a POS
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("kivy", "log_level", "info")
    if headless:
        for name, _value in Config.items("input"):
            Config.remove_option("input", name)
    else:
        Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "fullscreen", "auto" if ui.fullscreen else "0")
    Config.set("graphics", "width", str(ui.width))
    Config.set("graphics", "height", str(ui.height))
    Config.set("graphics", "resizable", "0" if ui.fullscreen else "1")
    Config.set("graphics", "show_cursor", "1")
