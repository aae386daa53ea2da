"""What every service works with: handed to each service instead of the whole terminal.

The settings are the ones in force now: a new shop configuration replaces them here,
and every service reads them from here each time, so none keeps an old copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import Database

from hal.card.payments import CardPaymentDesk
from hal.drawer.safety import DrawerCommands
from hal.printer import Printer
from terminal.config import Settings
from terminal.core.clock import Clock
from terminal.core.money import Currency
from terminal.services.events import EventStream
from terminal.store.journal import Journal
from terminal.store.sealing import Sealer


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    journal: Journal
    clock: Clock
    events: EventStream
    printer: Printer
    card: CardPaymentDesk | None = None
    sealer: Sealer | None = None
    drawer_commands: DrawerCommands | None = None  # set with the drawer
    # tells the key store where the journal and the numbers stand (after a Z report)
    checkpoint: Callable[[str], None] = field(default=lambda event: None)

    @property
    def currency(self) -> Currency:
        return self.settings.store.currency
