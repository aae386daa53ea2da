"""Saving what the window shows, as a PNG (tests, the demo, ``--screenshots``)."""

from __future__ import annotations

import os
from pathlib import Path


def save_screenshot(path: Path) -> Path:
    """Save what the window shows to ``path`` (Kivy numbers its files; we rename)."""
    # the window opens when kivy.core.window is first imported: not before it is asked for
    from kivy.core.window import Window  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    numbered = Window.screenshot(name=str(path.with_name(path.stem + "-tmp.png")))
    if numbered:
        os.replace(numbered, path)
    return path
