"""Counting the shelf at the till (issue 19, stocktake), from the sale screen's More
menu: a supervisor chooses the count the fleet opened (when several are), scans each
item and types how many are on the shelf (0: none); Enter on an empty scan ends the list,
which is shown whole and journaled on confirmation. Blind: what the books expect is
never shown here. No Kivy here: the questions go to an ``Asker``."""

from __future__ import annotations

from terminal.core.errors import N_, PosError
from terminal.core.stocktake import OpenCount
from terminal.i18n import _
from terminal.services.pos import PosService
from terminal.ui.asker import Asker
from terminal.ui.receiving_menu import _ScannedList


class StockCountMenu(_ScannedList):
    REFUSAL = N_("Counting stock is a supervisor's")
    SCAN = N_("Count: scan the next item ({n} so far)")
    SCAN_HINT = N_("Enter with nothing: the list is complete")
    QUANTITY = N_("{name}: how many on the shelf ({unit})?")
    ZERO = True

    def __init__(self, service: PosService, ask: Asker) -> None:
        super().__init__(service, ask)
        self.open_count: OpenCount | None = None
        self.lines: list[tuple[str, str, str]] = []  # code, quantity, name

    def start(self) -> None:
        counts = self.service.stocktake.open_counts()
        if not counts:
            self.ask.say(_("No count is open: the console opens one (Stock > Counts)"))
            return
        if len(counts) == 1:
            self._begin(counts[0])
            return
        by_id = {c.id: c for c in counts}
        self.ask.choose(
            _("Which count?"),
            [(c.id, self._title(c)) for c in counts],
            lambda chosen: self._begin(by_id[chosen]),
        )

    @staticmethod
    def _title(count: OpenCount) -> str:
        if not count.categories:
            return _("Count {count}: every product").format(count=count.id)
        return _("Count {count}: {categories}").format(
            count=count.id, categories=", ".join(count.categories)
        )

    def _begin(self, count: OpenCount) -> None:
        self.open_count = count
        self.ask.next(self.next_item)

    def product(self, code: str):
        assert self.open_count is not None
        return self.service.stocktake.product(self.open_count, code)

    def finish(self) -> None:
        if not self.lines:
            self.ask.say(_("Nothing counted"))
            return
        assert self.open_count is not None
        shown = [f"{name}  {quantity}" for _code, quantity, name in self.lines]
        self.ask.show(
            _("Send this list? {title}").format(title=self._title(self.open_count)),
            shown,
            self._send,
            action=_("Send"),
        )

    def _send(self) -> None:
        assert self.open_count is not None
        try:
            self.service.stocktake.count(
                self.open_count.id, [(code, quantity) for code, quantity, _name in self.lines]
            )
        except PosError as exc:
            self.ask.say(exc.translated(_), error=True)
            return
        self.ask.say(
            _("Counted for {count}: {n} lines").format(count=self.open_count.id, n=len(self.lines))
        )
