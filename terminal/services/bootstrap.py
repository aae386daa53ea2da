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
from terminal.services.demo import DEMO_CASHIER, DEMO_SUPERVISOR, demo_products
from terminal.services.pos import PosService
from terminal.store.cashiers import (
    DEFAULT_PARAMS,
    Argon2Params,
    PinHasher,
    add_cashier,
    list_cashiers,
)
from terminal.store.catalogue_repo import load_catalogue, product_count, save_products
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.keystore import FileKeyStore


@dataclass
class Terminal:
    pos: PosService
    scanner: object
    keypad: object
    card: object
    keys: FileKeyStore


def seed_demo(hasher: PinHasher) -> None:
    """Fill an empty database with the demo store's products and its two demo users."""
    if product_count() == 0:
        save_products(demo_products())
    if not list_cashiers():
        for cashier_id, name, role, pin in (DEMO_CASHIER, DEMO_SUPERVISOR):
            add_cashier(hasher, cashier_id, name, role, pin)


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
    if settings.store.demo_catalogue:
        seed_demo(hasher)
    catalogue = load_catalogue(settings.tax_classes, settings.weighed_formats)
    hw = settings.hardware
    printer = make_printer(hw["printer"], settings.data_dir)
    pos = PosService(
        settings,
        db,
        catalogue,
        printer=printer,
        drawer=make_drawer(hw["drawer"], settings.data_dir, printer),
        journal=journal,
        hasher=hasher,
        clock=clock,
    )
    journal.append("start", {"catalogue_products": len(catalogue.products)}, clock())
    return Terminal(
        pos,
        make_scanner(hw["scanner"], settings.data_dir),
        make_keypad(hw["keypad"], settings.data_dir),
        make_card_terminal(hw["card"], settings.data_dir, currency=settings.store.currency.code),
        keys,
    )
