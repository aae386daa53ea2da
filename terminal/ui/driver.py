"""Drives the real app the way a cashier does - keys through the window, taps on widgets -
and waits on the app's own state and the Kivy clock, never on wall-clock sleeps.

Used by the UI tests and by ``pos-terminal demo`` (which makes the README's screenshots).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Keyboard, Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

from terminal.ui.screenshot import save_screenshot
from terminal.ui.worker import Worker


class _Touch(MotionEvent):
    def __init__(self, x: float, y: float) -> None:
        super().__init__(
            "driver",
            1,
            {"x": x / (Window.width - 1.0), "y": y / (Window.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


class UiDriver:
    def __init__(self, max_frames: int = 600) -> None:
        self.max_frames = max_frames

    def frames(self, count: int = 2) -> None:
        """Let the window draw ``count`` frames, after the worker's calls have answered
        (a PIN check, a payment: what a cashier waits for before looking)."""
        for _ in range(self.max_frames):
            if Worker.idle():
                break
            EventLoop.idle()
        for _ in range(count):
            EventLoop.idle()

    def wait_until(self, condition: Callable[[], bool], what: str = "condition") -> None:
        for _ in range(self.max_frames):
            if condition():
                return
            EventLoop.idle()
        raise TimeoutError(f"UI never reached: {what}")

    def key(self, name: str, text: str | None = None, modifiers: list[str] | None = None) -> None:
        """Press and release one key, as SDL reports it: key down, the text it types, key up.
        ``modifiers`` are held meanwhile (``["shift"]``: Shift+8 types ``*``)."""
        code = Keyboard.keycodes[name]
        held = list(modifiers or [])
        handled = Window.dispatch("on_key_down", code, 0, text, held)
        if not handled:
            Window.dispatch("on_keyboard", code, 0, text, held)
        if text:
            Window.dispatch("on_textinput", text)
        Window.dispatch("on_key_up", code, 0)
        self.frames(1)

    def type(self, text: str) -> None:
        for char in text:
            name = char.lower() if char.lower() in Keyboard.keycodes else "spacebar"
            self.key(name if char != " " else "spacebar", char)

    def scan(self, code: str) -> None:
        """A keyboard-wedge scanner: the digits, then Enter."""
        self.type(code)
        self.key("enter")

    def tap(self, widget: Widget) -> None:
        self.tap_at(*widget.to_window(*widget.center))

    def tap_at(self, x: float, y: float) -> None:
        """A finger on the window at (``x``, ``y``), then lifted."""
        touch = _Touch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.frames(1)

    def screenshot(self, path: Path) -> Path:
        self.frames(3)
        return save_screenshot(path)
