"""The sign-in screen: a cashier's name (or number), then the PIN; and, when the shop
offers more than its own (``[store] languages``), the language of the cashier's session."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from terminal.core.errors import PosError
from terminal.i18n import _, current_locale
from terminal.ui.typeface import NEEDS_UI_FONT, UI_FONT
from terminal.ui.widgets import PosButton, PosScreen, load_kv

load_kv(__file__)
# each language by its own name (never translated: a cashier looks for their own)
LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia", "mn": "Монгол", "zh": "中文"}


class SignInScreen(PosScreen):
    store_name = StringProperty("")
    security_warning = StringProperty("")
    operator = StringProperty("")
    pin = StringProperty("")
    step = StringProperty("operator")
    languages_shown = BooleanProperty(False)
    checking = False  # a PIN is being checked: another Enter waits for the answer

    def on_kv_post(self, base_widget) -> None:
        self.config_applied()
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))
        for cashier in self.service.cashiers()[:8]:
            button = PosButton(
                text=f"{cashier.id}  {cashier.name}", size_hint=(None, None), width="150dp"
            )
            button.height = button.size_hint_min_y
            button.bind(on_release=lambda _b, c=cashier: self.choose(str(c.id)))
            self.ids.cashiers.add_widget(button)

    def config_applied(self) -> None:
        self.store_name = self.service.settings.store.name
        warning = self.service.key_protection_warning()
        self.security_warning = _(warning) if warning else ""
        self.show_languages()

    def show_languages(self) -> None:
        """A button per language the shop offers, when it offers more than one."""
        row = self.ids.languages
        row.clear_widgets()
        offered = self.service.settings.store.languages
        self.languages_shown = len(offered) > 1
        if not self.languages_shown:
            return
        for code in offered:
            button = PosButton(
                text=LANGUAGE_NAMES.get(code, code),
                font_size="14sp",
                # a name in a script the current font may lack: in the font that has it
                font_name=str(UI_FONT) if code in NEEDS_UI_FONT else "Roboto",
                background_color=(0.1, 0.45, 0.7, 1)
                if code == current_locale()
                else (0.22, 0.3, 0.4, 1),
            )
            button.bind(on_release=lambda _b, c=code: self.choose_language(c))
            row.add_widget(button)

    def choose_language(self, locale: str) -> None:
        """The session's language: the screens are made anew in it (after this touch is
        done with the button it came from)."""
        Clock.schedule_once(lambda _dt: self.router.set_language(locale))

    def on_pre_enter(self) -> None:
        self.operator = self.pin = ""
        self.step = "operator"

    def choose(self, operator: str) -> None:
        self.operator, self.pin, self.step = operator, "", "pin"
        self.say("")

    def on_text(self, text: str) -> None:
        digits = "".join(ch for ch in text if ch.isdigit())
        if self.step == "operator":
            self.operator = (self.operator + digits)[:6]
        else:
            self.pin = (self.pin + digits)[:8]

    def on_backspace(self) -> None:
        if self.step == "pin":
            self.pin = self.pin[:-1]
        else:
            self.operator = self.operator[:-1]

    def on_clear(self) -> None:
        self.on_pre_enter()

    def on_action(self, action: str) -> None:
        if action == "back":
            self.on_clear()
            self.say("")

    def on_enter_key(self) -> None:
        if self.step == "operator":
            if self.operator:
                self.step = "pin"
            return
        if self.checking:
            return
        operator, pin = self.operator, self.pin
        self.pin = ""  # (the PIN is checked on the worker; nothing of it stays on screen)
        self.checking = True

        def refused(exc: PosError) -> None:
            self.checking = False
            self.pin, self.step = "", "pin"
            self.refuse(exc)

        def signed_in(cashier) -> None:
            self.checking = False
            self.say("")
            self.router.signed_in(cashier)

        self.router.worker.run(lambda: self.service.sign_in(operator, pin), signed_in, refused)
