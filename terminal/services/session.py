"""Who is at the counter, and the shift their sales belong to."""

from __future__ import annotations

from terminal.core.errors import N_, PosError
from terminal.services.context import ServiceContext
from terminal.store.cashiers import Cashier
from terminal.store.shifts import Shift, current_shift


class Session:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.cashier: Cashier | None = None

    def require_cashier(self) -> Cashier:
        if self.cashier is None:
            raise PosError(N_("Sign in first"))
        return self.cashier

    @property
    def shift(self) -> Shift | None:
        return current_shift(self.ctx.db, self.ctx.settings.terminal_id)

    def shift_id(self) -> int | None:
        shift = self.shift
        return shift.id if shift else None
