"""What is shown instead of the sale screen when the terminal must not sell: a damaged,
missing or replaced database, a key store that does not open. It says what happened and
what to do. :class:`StoppedApp` when it is found at start; :class:`StoppedScreen` when
the integrity check finds damage while the terminal runs."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import sp
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from terminal.i18n import _, current_locale
from terminal.ui.screenshot import save_screenshot
from terminal.ui.typeface import use_font_for
from terminal.ui.watchdog import Watchdog


def stopped_label(reason: str) -> Label:
    text = (
        _("This terminal is stopped and cannot sell.")
        + "\n\n"
        + reason
        + "\n\n"
        + _("Call a technician.")
    )
    label = Label(
        text=text, font_size=sp(18), halign="center", valign="middle", color=(1, 0.85, 0.8, 1)
    )
    label.bind(size=lambda widget, size: setattr(widget, "text_size", (size[0] * 0.9, None)))
    return label


class StoppedScreen(Screen):
    """In the running app: no key reaches a sale screen any more."""

    def __init__(self, reason: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.add_widget(stopped_label(reason))


class StoppedApp(App):
    title = "POS"

    def __init__(self, reason: str, screenshot_dir: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.screenshot_dir = screenshot_dir
        # under systemd (Type=notify), the stopped screen is the app up and alive: it
        # waits for a technician, not for the watchdog to restart it in a loop
        self.watchdog = Watchdog(Clock)

    def build(self) -> Label:
        use_font_for(current_locale())  # (no PosRoot here to do it)
        return stopped_label(self.reason)

    def on_start(self) -> None:
        self.watchdog.start()
        if self.screenshot_dir:  # once the text is laid out and drawn
            Clock.schedule_once(
                lambda _dt: save_screenshot(self.screenshot_dir / "stopped.png"), 1.0
            )

    def on_stop(self) -> None:
        self.watchdog.stop()
