"""Builds a ready terminal from its settings: keys, database, journal, catalogue, hardware."""

from __future__ import annotations

from dataclasses import dataclass

from hal.card import make_card_terminal
from hal.drawer import make_drawer
from hal.keypad import make_keypad
from hal.printer.backends import make_printer
from hal.scanner import make_scanner
from terminal.config import Settings
from terminal.core.clock import Clock, system_clock
from terminal.services.demo import (
    DEMO_CASHIER,
    DEMO_MEMBER,
    DEMO_PASSKEYS,
    DEMO_SUPERVISOR,
    demo_products,
    demo_promotions,
)
from terminal.services.pos import PosService
from terminal.services.refunds import Refunds
from terminal.services.shifts import Shifts
from terminal.store.card_payments import DatabaseRecords
from terminal.store.cashiers import (
    DEFAULT_PARAMS,
    Argon2Params,
    PinHasher,
    add_cashier,
    list_cashiers,
)
from terminal.store.catalogue_repo import load_catalogue, product_count, save_products
from terminal.store.customers import add_customer
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.keystore import FileKeyStore
from terminal.store.passkeys import set_category
from terminal.store.promotions import load_promotions, save_promotions
from terminal.store.sealing import Sealer


@dataclass
class Terminal:
    pos: PosService
    scanner: object
    keypad: object
    card: object
    keys: FileKeyStore

    @property
    def shifts(self) -> Shifts:
        return self.pos.shifts

    @property
    def refunds(self) -> Refunds:
        return self.pos.refunds


def seed_demo(hasher: PinHasher, settings: Settings, sealer: Sealer, now) -> None:
    """Fill an empty database with the demo store: products, promotions, its two demo
    users, a member, and the passkey categories the configuration names switched on."""
    if product_count() == 0:
        save_products(demo_products())
        save_promotions(demo_promotions(now))
        add_customer(sealer, *DEMO_MEMBER[:3], at=now, member_code=DEMO_MEMBER[3])
    if not list_cashiers():
        for cashier_id, name, role, pin in (DEMO_CASHIER, DEMO_SUPERVISOR):
            add_cashier(hasher, cashier_id, name, role, pin)
        for category in settings.approval.demo_categories:
            set_category(hasher, category, enabled=True, code=DEMO_PASSKEYS[category])


def open_store(settings: Settings) -> tuple[FileKeyStore, object, Journal]:
    """The key store (created on first start), the encrypted database, the journal."""
    keys = FileKeyStore.open_or_create(settings.security.key_dir)
    db = open_database(settings.database_path, keys.key("database"))
    journal = Journal(db, settings.terminal_id, keys.journal_private_key())
    return keys, db, journal


def build_terminal(
    settings: Settings, *, clock: Clock = system_clock, pin_params: Argon2Params = DEFAULT_PARAMS
) -> Terminal:
    keys, db, journal = open_store(settings)
    hasher = PinHasher(keys.key("pin_pepper"), pin_params)
    hasher.decoy  # noqa: B018 - computed now, so the first unknown number costs no more
    sealer = Sealer(keys.key("sealing"))
    if settings.store.demo_catalogue:
        seed_demo(hasher, settings, sealer, clock())
    catalogue = load_catalogue(settings.tax_classes, settings.weighed_formats)
    hw = settings.hardware
    printer = make_printer(hw["printer"], settings.data_dir)
    card = make_card_terminal(
        hw["card"],
        settings.data_dir,
        currency=settings.store.currency.code,
        records=DatabaseRecords(clock),
    )
    pos = PosService(
        settings,
        db,
        catalogue,
        printer=printer,
        drawer=make_drawer(hw["drawer"], settings.data_dir, printer),
        journal=journal,
        hasher=hasher,
        clock=clock,
        sealer=sealer,
        card=card,
        promotions=load_promotions(),
    )
    journal.append("start", {"catalogue_products": len(catalogue.products)}, clock())
    scanner = make_scanner(hw["scanner"], settings.data_dir)
    keypad = make_keypad(hw["keypad"], settings.data_dir)
    pos.devices = {"scanner": scanner, "keypad": keypad}
    return Terminal(pos, scanner, keypad, card, keys)
