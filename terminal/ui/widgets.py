"""What every screen and prompt is built from: the buttons, the keypad, the cart's row,
the key hooks the key router calls, and the screens' base class. Their look is in
``widgets.kv``, beside this module; so are the touch-target size and the colours the
screens' own .kv files use (a ``#:set`` in a .kv is seen by every .kv loaded after it)."""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen

from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.services.pos import PosService

KEYPAD_KEYS = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "C", "0", "OK"]


def show_refusal(target, exc: PosError) -> None:
    """Say a refusal on ``target`` (a screen or a prompt). One that names the seconds to
    wait (a PIN lockout) counts them down, then says the cashier may try again."""
    previous = getattr(target, "_countdown", None)
    if previous is not None:
        previous.cancel()
        target._countdown = None
    target.say(exc.translated(_), error=True)
    seconds = exc.params.get("seconds")
    if not isinstance(seconds, int) or seconds <= 0:
        return
    left = [seconds]
    shown = [target.message]

    def tick(_dt) -> bool:
        if target.message != shown[0]:  # something else is said now: it stays
            target._countdown = None
            return False
        left[0] -= 1
        if left[0] <= 0:
            target.say(_("You can try again"))
            target._countdown = None
            return False
        target.say(
            PosError(exc.msgid, **{**exc.params, "seconds": left[0]}).translated(_), error=True
        )
        shown[0] = target.message
        return True

    target._countdown = Clock.schedule_interval(tick, 1.0)


def load_kv(module_file: str) -> None:
    """Load the .kv file beside a module (``foo.py``: ``foo.kv``), once."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


load_kv(__file__)


class PosButton(Button):
    pass


class FieldBox(Button):
    title = StringProperty("")
    value = StringProperty("")
    active = BooleanProperty(False)


class Keypad(GridLayout):
    """The on-screen numeric keypad: digits type, C clears, OK is Enter."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register_event_type("on_key")
        self.buttons: dict[str, PosButton] = {}
        for key in KEYPAD_KEYS:
            button = PosButton(text=_("OK") if key == "OK" else key, font_size="22sp")
            button.bind(on_release=lambda _b, k=key: self.dispatch("on_key", k))
            self.buttons[key] = button
            self.add_widget(button)

    def on_key(self, key: str) -> None:
        pass


class SelectableRow(BoxLayout):
    """A row of a list that a touch selects: ``on_select(index)``. Its look is the
    subclass's kv rule (``CartRow``, ``RefundRow``)."""

    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    index = NumericProperty(0)
    selected = BooleanProperty(False)

    def __init__(self, on_select, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_select = on_select

    def on_touch_down(self, touch) -> bool:
        if self.collide_point(*touch.pos):
            self._on_select(self.index)
            return True
        return super().on_touch_down(touch)


class CartRow(SelectableRow):
    pass


class KeyHooks:
    """What the key router calls on a screen or an open prompt; each overrides what it
    uses. (The Enter key's hook is on_enter_key: Kivy's Screen already has an on_enter
    event, fired on every visit.)"""

    def on_text(self, text: str) -> None:
        pass

    def on_backspace(self) -> None:
        pass

    def on_enter_key(self) -> None:
        pass

    def on_action(self, action: str) -> None:
        pass

    def on_scan(self, code: str) -> None:
        pass

    def on_keypad(self, key: str) -> None:
        """The on-screen keypad: digits type, C clears, OK is Enter."""
        if key == "OK":
            self.on_enter_key()
        elif key == "C":
            self.on_clear()
        else:
            self.on_text(key)

    def on_clear(self) -> None:
        pass


class PosScreen(KeyHooks, Screen):
    """Common handling: messages, the key labels, and the hooks the key router calls."""

    message = StringProperty("")
    message_is_error = BooleanProperty(False)

    def __init__(self, service: PosService, router, **kwargs) -> None:
        self.service = service
        self.router = router
        super().__init__(**kwargs)

    def key_label(self, action: str) -> str:
        return self.router.keymap.label(action)

    def config_applied(self) -> None:
        """A new shop configuration is in force: show what depends on it."""

    def say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error

    def refuse(self, exc: PosError) -> None:
        show_refusal(self, exc)

    def reset_session(self) -> None:
        """A cashier signed out: nothing of their session stays on screen."""
        self.say("")

    def go(self, name: str) -> None:
        self.manager.current = name

    def on_scan(self, code: str) -> None:
        self.say(_("Sign in first"), error=True)
