"""The passkey settings (seed 000), on the terminal: a signed-in supervisor switches each
category on or off, and in passkey mode sets its 6-digit code."""

from __future__ import annotations

from terminal.core.approval import CATEGORIES, CATEGORY_NAMES, PASSKEY_MODE
from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.ui.panels import ChoicePanel, EntryPanel


def open_passkey_settings(screen) -> None:
    service, router = screen.service, screen.router
    approvals = service.approvals
    cashier = service.cashier
    if cashier is None or not cashier.is_supervisor:
        screen.say(_("Only a supervisor can change the passkeys"), error=True)
        return
    enabled = approvals.policy.enabled
    passkey_mode = approvals.mode == PASSKEY_MODE

    def label(category: str) -> str:
        state = _("on") if category in enabled else _("off")
        return f"{_(CATEGORY_NAMES[category])}: {state}"

    def apply(category: str, on: bool, code: str | None) -> str | None:
        approvals.configure(cashier, category, enabled=on, code=code, at=service.clock())
        screen.say(label_after(category, on))
        return None

    def label_after(category: str, on: bool) -> str:
        state = _("on") if on else _("off")
        return _("Passkey {category}: {state}").format(
            category=_(CATEGORY_NAMES[category]), state=state
        )

    def chosen(category: str) -> None:
        turn_on = category not in enabled
        if passkey_mode and turn_on:
            EntryPanel(
                router,
                _("New 6-digit passkey for {category}").format(
                    category=_(CATEGORY_NAMES[category])
                ),
                lambda code: apply(category, True, code),
                secret=True,
            ).show()
            return
        try:
            apply(category, turn_on, None)
        except PosError as exc:
            screen.refuse(exc)

    options = [(c, label(c)) for c in CATEGORIES]
    if passkey_mode:
        options += [
            (f"code:{c}", _("New code: {category}").format(category=_(CATEGORY_NAMES[c])))
            for c in CATEGORIES
            if approvals.has_code(c)
        ]

    def picked(key: str) -> None:
        if key.startswith("code:"):
            category = key.split(":", 1)[1]
            EntryPanel(
                router,
                _("New 6-digit passkey for {category}").format(
                    category=_(CATEGORY_NAMES[category])
                ),
                lambda code: apply(category, category in enabled, code),
                secret=True,
            ).show()
        else:
            chosen(key)

    ChoicePanel(router, _("Passkeys: switch a category on or off"), options, picked).show()
