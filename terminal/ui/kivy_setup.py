"""Kivy reads its configuration at import time: set it from our settings before any import."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
from pathlib import Path

from terminal.config import UiSettings

log = logging.getLogger(__name__)
SDL_INIT_VIDEO = 0x20
REFERENCE_DPI = 133  # the Raspberry Pi 7" Touch Display, 800x480


class _DisplayMode(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_uint32),
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
        ("refresh_rate", ctypes.c_int),
        ("driverdata", ctypes.c_void_p),
    ]


def _sdl_library() -> ctypes.CDLL | None:
    """The SDL2 that Kivy will use: the one its wheel bundles, else the system's."""
    spec = importlib.util.find_spec("kivy")  # (found, not imported: Kivy is not set up yet)
    if spec and spec.origin:
        bundled = sorted((Path(spec.origin).parent.parent / "Kivy.libs").glob("libSDL2-2*.so*"))
        if bundled:
            return ctypes.CDLL(str(bundled[0]))
    name = ctypes.util.find_library("SDL2-2.0") or ctypes.util.find_library("SDL2")
    return ctypes.CDLL(name) if name else None


def desktop_size() -> tuple[int, int] | None:
    """The display's size, asked of SDL before Kivy opens its window; None when there is
    no display to ask (the configured size is used then)."""
    try:
        sdl = _sdl_library()
        if sdl is None or sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
            return None
        try:
            mode = _DisplayMode()
            if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0:
                return None
            return (mode.w, mode.h) if mode.w > 0 and mode.h > 0 else None
        finally:
            sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)
    except OSError:  # no SDL to load: Kivy will say so itself
        return None


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
    # text and controls (sp, dp) keep their size in millimetres from one display to the
    # next: the screens were drawn for the Pi's 7" Touch Display (133 dpi) at density 1
    os.environ.setdefault("KIVY_METRICS_DENSITY", f"{ui.dpi / REFERENCE_DPI:.3f}")
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
    width, height = ui.width, ui.height
    if ui.fullscreen and not headless:
        # A kiosk has no window manager to make a window full screen (X without one keeps
        # the window at its configured size): the window is made as large as the display,
        # at its corner, and full screen as well for the displays that do have one.
        size = desktop_size()
        if size:
            width, height = size
            Config.set("graphics", "position", "custom")
            Config.set("graphics", "left", "0")
            Config.set("graphics", "top", "0")
            Config.set("graphics", "borderless", "1")
        log.info("full screen on a %sx%s display", width, height)
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0" if ui.fullscreen else "1")
    Config.set("graphics", "show_cursor", "1")
