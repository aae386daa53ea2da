"""The shift menu on the sale screen: cash in and out, no sale, X report, close the shift
with a blind count, Z report. Every step goes through the service's shift rules."""

from __future__ import annotations

from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.services.shifts import CASH_REASONS, NO_SALE_REASONS
from terminal.ui.panels import ChoicePanel, CountPanel, EntryPanel


def open_shift_menu(screen) -> None:
    service, router = screen.service, screen.router
    shifts = service.shifts
    money = screen.money

    def printed(what: str, error: str | None) -> None:
        if error:
            screen.say(
                _("{what} saved; not printed: {reason}").format(what=what, reason=error), error=True
            )
        else:
            screen.say(_("{what} printed").format(what=what))

    def cash(kind: str) -> None:
        title = _("Cash in: amount") if kind == "cash_in" else _("Cash out: amount")

        def with_amount(text: str) -> str | None:
            amount = service.currency.parse(text or "0")

            def with_reason(reason: str) -> None:
                try:
                    shifts.cash_move(kind, amount, reason)
                except PosError as exc:
                    screen.refuse(exc)
                    return
                screen.say(
                    _("{what}: {amount}").format(what=title.split(":")[0], amount=money(amount))
                )

            ChoicePanel(
                router, _("Reason"), [(k, _(v)) for k, v in CASH_REASONS.items()], with_reason
            ).show()
            return None

        EntryPanel(router, title, with_amount, hint=money(0)).show()

    def no_sale() -> None:
        def with_reason(reason: str) -> None:
            router.with_approval(
                lambda approval: shifts.no_sale(reason, approval),
                lambda _r: screen.say(_("Drawer opened (no sale), journaled")),
            )

        ChoicePanel(
            router,
            _("Open the drawer without a sale: why?"),
            [(k, _(v)) for k, v in NO_SALE_REASONS.items()],
            with_reason,
        ).show()

    def x_report() -> None:
        try:
            out = shifts.x_report()
        except PosError as exc:
            screen.refuse(exc)
            return
        printed(_("X report"), out.print_error)

    def close() -> None:
        def counted(counts: dict[int, int]) -> None:
            try:
                closed = shifts.close(counts)
            except PosError as exc:
                screen.refuse(exc)
                return
            screen.say(
                _(
                    "Shift closed. Counted {counted}, expected {expected}, variance {variance}"
                ).format(
                    counted=money(closed.counted),
                    expected=money(closed.expected),
                    variance=money(closed.variance),
                ),
                error=closed.variance != 0,
            )
            router.screenshot("shift-closed")

        if shifts.current is None:
            screen.say(_("No shift is open"), error=True)
            return
        CountPanel(
            router,
            _("Blind count: how many of each?"),
            service.currency.denominations,
            service.currency,
            counted,
        ).show()

    def z_report() -> None:
        try:
            out = shifts.z_report()
        except PosError as exc:
            screen.refuse(exc)
            return
        printed(_("Z report {n}").format(n=out.number), out.print_error)

    def open_shift() -> None:
        screen.ask_opening_float()

    if shifts.current is None:
        options = [("open", _("Open the shift")), ("z", _("Z report (close the day)"))]
    else:
        options = [
            ("cash_in", _("Cash in")),
            ("cash_out", _("Cash out")),
            ("no_sale", _("No sale (open drawer)")),
            ("x", _("X report")),
            ("close", _("Close the shift (blind count)")),
        ]
    actions = {
        "cash_in": lambda: cash("cash_in"),
        "cash_out": lambda: cash("cash_out"),
        "no_sale": no_sale,
        "x": x_report,
        "close": close,
        "z": z_report,
        "open": open_shift,
    }
    ChoicePanel(router, _("Shift and reports"), options, lambda key: actions[key]()).show()
