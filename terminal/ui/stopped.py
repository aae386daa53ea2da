"""The screen shown instead of the sale screen when the terminal must not sell:
a damaged database, a missing key store. It says what happened and what to do."""

from __future__ import annotations

from kivy.app import App
from kivy.metrics import sp
from kivy.uix.label import Label

from terminal.i18n import _


class StoppedApp(App):
    title = "POS"

    def __init__(self, reason: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reason = reason

    def build(self) -> Label:
        text = (
            _("This terminal is stopped and cannot sell.")
            + "\n\n"
            + self.reason
            + "\n\n"
            + _("Call a technician.")
        )
        label = Label(
            text=text, font_size=sp(18), halign="center", valign="middle", color=(1, 0.85, 0.8, 1)
        )
        label.bind(size=lambda widget, size: setattr(widget, "text_size", (size[0] * 0.9, None)))
        return label
