"""e-barimt on the sale screen's More menu (shops with fiscal receipts only): the TIN of
a company buying (the sale's receipt becomes B2B), and the receipts that wait to be
registered - each with why - with Send now. No Kivy: questions go to an ``Asker``."""

from __future__ import annotations

from terminal.i18n import _, ngettext
from terminal.services.pos import PosService
from terminal.ui.asker import Asker


def menu_entries(service: PosService) -> list[tuple[str, str]]:
    """The More menu's e-barimt lines, none where the shop has no fiscal receipts."""
    if not service.fiscal.enabled:
        return []
    n = len(service.fiscal.pending())
    waiting = (
        ngettext("e-barimt: {n} receipt waiting", "e-barimt: {n} receipts waiting", n).format(n=n)
        if n
        else _("e-barimt: every receipt registered")
    )
    return [("buyer_tin", _("e-barimt: company buyer (TIN)")), ("fiscal_pending", waiting)]


class FiscalMenu:
    def __init__(self, service: PosService, ask: Asker) -> None:
        self.service = service
        self.ask = ask

    def buyer_tin(self) -> None:
        """The buyer's TIN for this sale's receipt; empty: a person's receipt again."""

        def take(text: str) -> str | None:
            tin = self.service.set_buyer_tin(text)
            self.ask.say(
                _("e-barimt for company TIN {tin}").format(tin=tin)
                if tin
                else _("e-barimt for a person (no TIN)")
            )
            return None

        self.ask.enter(
            _("Buyer's TIN (11 digits; 12-14 for a person)"),
            take,
            value=self.service.buyer_tin,
            hint=_("Empty: a receipt for a person"),
        )

    def pending(self) -> None:
        """The receipts the tax office has not taken yet, oldest first, with Send now."""
        waiting = self.service.fiscal.pending()
        if not waiting:
            self.ask.say(_("Every e-barimt receipt is registered"))
            return
        lines = []
        for r in waiting:
            lines.append(
                _("{label}: {attempts} tries, {error}").format(
                    label=r.label, attempts=r.attempts, error=r.error or "-"
                )
            )
            if r.unknown_since:
                lines.append(
                    _(
                        "  sent on {day}, no answer: look for it in PosAPI; Send now sends it again"
                    ).format(day=r.unknown_since)
                )
        self.ask.show(_("e-barimt receipts waiting"), lines, self.send_now, action=_("Send now"))

    def send_now(self) -> None:
        sent = self.service.fiscal.send_pending(force=True)
        left = len(self.service.fiscal.pending())
        self.ask.say(
            _("e-barimt: {sent} registered, {left} still waiting").format(sent=sent, left=left),
            error=bool(left),
        )
