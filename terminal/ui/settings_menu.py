"""The passkey settings (seed 000), on the terminal: a signed-in supervisor switches each
category on or off, and in passkey mode sets its 6-digit code. No Kivy: the questions go
to an ``Asker``."""

from __future__ import annotations

from terminal.core.approval import CATEGORIES, CATEGORY_NAMES, PASSKEY_MODE
from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.services.pos import PosService
from terminal.ui.asker import Asker


class PasskeySettings:
    def __init__(self, service: PosService, ask: Asker) -> None:
        self.service = service
        self.approvals = service.approvals
        self.ask = ask
        # as the menu opens (its labels show it):
        self.cashier = service.cashier
        self.enabled: frozenset[str] = frozenset()
        self.passkey_mode = False

    def open(self) -> None:
        """The categories, each with its state (a pick switches it); in passkey mode also
        a new code for each category that has one. Supervisors only."""
        self.cashier = cashier = self.service.cashier
        if cashier is None or not cashier.is_supervisor:
            self.ask.say(_("Only a supervisor can change the passkeys"), error=True)
            return
        self.enabled = self.approvals.policy.enabled
        self.passkey_mode = self.approvals.mode == PASSKEY_MODE
        options = [(c, self.label(c)) for c in CATEGORIES]
        if self.passkey_mode:
            options += [
                (f"code:{c}", _("New code: {category}").format(category=_(CATEGORY_NAMES[c])))
                for c in CATEGORIES
                if self.approvals.has_code(c)
            ]
        self.ask.choose(_("Passkeys: switch a category on or off"), options, self.picked)

    def label(self, category: str) -> str:
        state = _("on") if category in self.enabled else _("off")
        return f"{_(CATEGORY_NAMES[category])}: {state}"

    def label_after(self, category: str, on: bool) -> str:
        state = _("on") if on else _("off")
        return _("Passkey {category}: {state}").format(
            category=_(CATEGORY_NAMES[category]), state=state
        )

    def apply(self, category: str, on: bool, code: str | None) -> str | None:
        self.approvals.configure(
            self.cashier, category, enabled=on, code=code, at=self.service.clock()
        )
        self.ask.say(self.label_after(category, on))
        return None

    def ask_code(self, category: str, on: bool) -> None:
        """A new 6-digit passkey (never shown), then the category ``on`` or off."""
        self.ask.enter(
            _("New 6-digit passkey for {category}").format(category=_(CATEGORY_NAMES[category])),
            lambda code: self.apply(category, on, code),
            secret=True,
        )

    def picked(self, key: str) -> None:
        if key.startswith("code:"):
            category = key.split(":", 1)[1]
            self.ask_code(category, category in self.enabled)
        else:
            self.switch(key)

    def switch(self, category: str) -> None:
        """Off, or on; on in passkey mode asks for the category's code first."""
        turn_on = category not in self.enabled
        if self.passkey_mode and turn_on:
            self.ask_code(category, True)
            return
        try:
            self.apply(category, turn_on, None)
        except PosError as exc:
            self.ask.say(exc.translated(_), error=True)
