"""The shift menu on the sale screen: cash in and out (each with its own reasons), no
sale, the X report (on the screen, then printed), close the shift with a blind count
(its total shown and confirmed before the close), the Z report (a supervisor's); and the
opening float when no shift is open. Last, in either case: Send now (the journal to the
fleet at once; it says how many entries are unsent, or that there is no fleet agent).
Every step goes through the services. No Kivy: the questions go to an ``Asker``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from terminal.config import cash_reason_label
from terminal.core.errors import PosError
from terminal.i18n import _, ngettext
from terminal.services.about import about
from terminal.services.fleet_link import FleetStatus
from terminal.services.pos import PosService
from terminal.services.shifts import NO_SALE_REASONS
from terminal.ui.asker import Asker


class ShiftMenu:
    """``on_closed``: called once the shift is closed and the outcome said."""

    def __init__(
        self, service: PosService, ask: Asker, on_closed: Callable[[], None] | None = None
    ) -> None:
        self.service = service
        self.shifts = service.shifts
        self.ask = ask
        self.on_closed = on_closed

    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def refuse(self, exc: PosError) -> None:
        self.ask.say(exc.translated(_), error=True)

    def open(self) -> None:
        """The menu: what can be done with the shift as it is (open, or not)."""
        if self.shifts.current is None:
            options = [("open", _("Open the shift")), ("z", _("Z report (close the day)"))]
        else:
            options = [
                ("cash_in", _("Cash in")),
                ("cash_out", _("Cash out")),
                ("no_sale", _("No sale (open drawer)")),
                ("x", _("X report")),
                ("close", _("Close the shift (blind count)")),
            ]
        options.append(("send_now", self.send_now_label(self.service.fleet.status())))
        options.append(("about", _("About this terminal")))
        actions = {
            "cash_in": lambda: self.cash("cash_in"),
            "cash_out": lambda: self.cash("cash_out"),
            "no_sale": self.no_sale,
            "x": self.x_report,
            "close": self.close,
            "z": self.z_report,
            "open": self.open_shift,
            "send_now": self.send_now,
            "about": self.about,
        }
        self.ask.choose(_("Shift and reports"), options, lambda key: actions[key]())

    def open_shift(self) -> None:
        """No shift is open: the first thing is to count the opening float."""

        def open_with(text: str) -> str | None:
            amount = self.service.currency.parse(text or "0")
            shift = self.shifts.open(amount)
            self.ask.say(
                _("Shift {n} open, float {amount}").format(n=shift.id, amount=self.money(amount))
            )
            return None

        self.ask.enter(
            _("Open the shift: count the opening float"),
            open_with,
            hint=self.money(0),
            money=True,
        )

    def _printed(self, what: str, error: str | None) -> None:
        if error:
            self.ask.say(
                _("{what} saved; not printed: {reason}").format(what=what, reason=_(error)),
                error=True,
            )
        else:
            self.ask.say(_("{what} printed").format(what=what))

    def cash(self, kind: str) -> None:
        """Cash in or out: the amount, then the reason."""
        title = _("Cash in: amount") if kind == "cash_in" else _("Cash out: amount")

        def with_amount(text: str) -> str | None:
            amount = self.service.currency.parse(text or "0")

            def with_reason(reason: str) -> None:
                try:
                    self.shifts.cash_move(kind, amount, reason)
                except PosError as exc:
                    self.refuse(exc)
                    return
                self.ask.say(
                    _("{what}: {amount}").format(
                        what=title.split(":")[0], amount=self.money(amount)
                    )
                )

            reasons = [(k, cash_reason_label(k, _)) for k in self.shifts.cash_reasons(kind)]
            self.ask.choose(_("Reason"), reasons, with_reason)
            return None

        self.ask.enter(title, with_amount, hint=self.money(0), money=True)

    def no_sale(self) -> None:
        """Open the drawer without a sale: the reason, and the approval when it is on."""

        def with_reason(reason: str) -> None:
            self.ask.approve(
                lambda approval: self.shifts.no_sale(reason, approval),
                lambda _r: self.ask.say(_("Drawer opened (no sale), journaled")),
            )

        self.ask.choose(
            _("Open the drawer without a sale: why?"),
            [(k, _(v)) for k, v in NO_SALE_REASONS.items()],
            with_reason,
        )

    def x_report(self) -> None:
        """The X report on the screen (a supervisor's shows the expected cash), then
        printed when asked: printing journals it."""
        try:
            doc = self.shifts.x_report_doc(_)
        except PosError as exc:
            self.refuse(exc)
            return

        def print_it() -> None:
            try:
                out = self.shifts.x_report()
            except PosError as exc:
                self.refuse(exc)
                return
            self._printed(_("X report"), out.print_error)

        self.ask.show(_("X report"), doc.text_lines(), print_it, action=_("Print"))

    def close(self, counts: dict[int, int] | None = None) -> None:
        """Close the shift: the blind count; its total shown to confirm (or back to the
        count, as counted so far); then counted against expected."""

        def close_with(counts: dict[int, int]) -> None:
            try:
                closed = self.shifts.close(counts)
            except PosError as exc:
                self.refuse(exc)
                return
            self.ask.say(
                _(
                    "Shift closed. Counted {counted}, expected {expected}, variance {variance}"
                ).format(
                    counted=self.money(closed.counted),
                    expected=self.money(closed.expected),
                    variance=self.money(closed.variance),
                ),
                error=closed.variance != 0,
            )
            if self.on_closed is not None:
                self.on_closed()

        def counted(counts: dict[int, int]) -> None:
            try:
                total = self.shifts.counted(counts)
            except PosError as exc:
                self.refuse(exc)
                return
            lines = [
                f"{self.money(value)} x {n} = {self.money(value * n)}"
                for value, n in sorted(counts.items(), reverse=True)
                if n
            ] or [_("Nothing counted: the drawer is empty")]
            self.ask.show(
                _("Counted {total}: close the shift?").format(total=self.money(total)),
                lines,
                lambda: close_with(counts),
                action=_("Close the shift"),
                back=lambda: self.close(counts),
                back_label=_("Back to the count"),
            )

        if self.shifts.current is None:
            self.ask.say(_("No shift is open"), error=True)
            return
        self.ask.count(
            _("Blind count: how many of each?"),
            self.service.currency.denominations,
            self.service.currency,
            counted,
            counts=counts,
        )

    def z_report(self) -> None:
        """Close the day: a supervisor's action (approval at the prompt) by default."""
        self.ask.approve(
            self.shifts.z_report,
            lambda out: self._printed(_("Z report {n}").format(n=out.number), out.print_error),
        )

    def about(self) -> None:
        """The terminal, its software, the configuration in force and when it came, the
        journal's head, the fleet link: what a technician on the phone asks for."""
        info = about(self.service)
        zone = self.service.settings.store.timezone
        lines = [
            _("Terminal {id}: {store}").format(id=info.terminal_id, store=info.store),
            _("Software: {software}").format(software=info.software),
        ]
        if info.config_version is not None:
            when = info.config_applied_at
            with contextlib.suppress(ValueError):
                when = datetime.fromisoformat(when).astimezone(zone).strftime("%d-%m-%Y %H:%M")
            lines.append(
                _("Configuration: version {n}, applied {when} ({source})").format(
                    n=info.config_version, when=when, source=info.config_source
                )
            )
        if info.fleet.enabled:
            versions = ", ".join(f"{scope} {n}" for scope, n in info.fleet_versions.items())
            lines.append(
                _("From the fleet: {versions}").format(versions=versions)
                if versions
                else _("From the fleet: nothing applied yet")
            )
        if info.journal_seq is not None:
            label = (
                str(info.journal_seq)
                if info.journal_epoch == 1
                else f"{info.journal_epoch}/{info.journal_seq}"
            )
            lines.append(_("Journal: {seq} {hash}").format(seq=label, hash=info.journal_hash))
        lines.append(self.fleet_line(info.fleet))
        self.ask.show(_("About this terminal"), lines, lambda: None, action=_("Close"))

    @staticmethod
    def fleet_line(status: FleetStatus) -> str:
        if not status.enabled:
            return _("Fleet: not set up")
        if not status.running:
            return _("Fleet: the agent is not running, {n} unsent").format(n=status.unsent)
        if status.connected:
            return _("Fleet: connected, {n} unsent").format(n=status.unsent)
        return _("Fleet: not connected, {n} unsent").format(n=status.unsent)

    @staticmethod
    def send_now_label(status: FleetStatus) -> str:
        if not status.enabled:
            return _("Send now: no fleet set up")
        if not status.running:
            return _("Send now: the fleet agent is not running")
        if not status.unsent:
            return _("Send now (all sent)")
        return ngettext("Send now ({n} unsent)", "Send now ({n} unsent)", status.unsent).format(
            n=status.unsent
        )

    def send_now(self) -> None:
        """The journal to the fleet at once: the agent is asked (it connects at once when
        it is not connected); the cashier is told what happens, or why nothing can."""
        status = self.service.fleet.send_now()
        n = status.unsent
        if not status.enabled:
            self.ask.say(
                _("This terminal sends nothing to a fleet: the fleet is off in its settings"),
                error=True,
            )
        elif not status.running:
            self.ask.say(
                ngettext(
                    "The fleet agent is not running: {n} entry waits. Call the technician",
                    "The fleet agent is not running: {n} entries wait. Call the technician",
                    n,
                ).format(n=n),
                error=True,
            )
        elif not n:
            self.ask.say(_("Everything is at the fleet already"))
        elif status.connected:
            self.ask.say(
                ngettext("Sending {n} entry now", "Sending {n} entries now", n).format(n=n)
            )
        else:
            self.ask.say(
                ngettext(
                    "Connecting to the fleet now to send {n} entry",
                    "Connecting to the fleet now to send {n} entries",
                    n,
                ).format(n=n)
            )
