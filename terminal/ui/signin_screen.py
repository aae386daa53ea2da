"""The sign-in screen: a cashier's name (or number), then the PIN."""

from __future__ import annotations

from kivy.properties import StringProperty

from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.ui.widgets import PosButton, PosScreen, load_kv

load_kv(__file__)


class SignInScreen(PosScreen):
    store_name = StringProperty("")
    security_warning = StringProperty("")
    operator = StringProperty("")
    pin = StringProperty("")
    step = StringProperty("operator")
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
