"""The composition root: builds a ready terminal from its settings (keys, database,
journal, catalogue, devices), starts its devices and stops them at exit.

The database is checked against the key store's memory before anything else
(:mod:`terminal.store.continuity`): a terminal whose records were lost or cut short
stops with :class:`StartRefused` instead of starting from zero."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from hal.card.payments import CardPaymentDesk
from hal.fiscal import make_fiscal
from hal.keypad import Keypad
from hal.scanner import Scanner
from terminal.config import SecuritySettings, Settings, parse_shop
from terminal.core.clock import Clock, system_clock
from terminal.services.card_records import DatabaseRecords
from terminal.services.customer_display import CustomerDisplayService
from terminal.services.demo import DEMO_PASSKEYS
from terminal.services.demo_stores import demo_store
from terminal.services.device_watch import DeviceWatch
from terminal.services.devices import Devices, make_devices
from terminal.services.events import EventStream
from terminal.services.integrity import IntegrityWatch
from terminal.services.pos import PosService
from terminal.services.refunds import Refunds
from terminal.services.shifts import Shifts
from terminal.store import shop_config
from terminal.store.cashiers import (
    DEFAULT_PARAMS,
    Argon2Params,
    PinHasher,
    add_cashier,
    cashier_count,
)
from terminal.store.catalogue_repo import load_catalogue, product_count, save_products
from terminal.store.continuity import OpenStore, remember
from terminal.store.continuity import open_store as open_checked_store
from terminal.store.customers import add_customer
from terminal.store.journal import Journal
from terminal.store.key_protectors import KeyProtector, make_protector
from terminal.store.keystore import FILE_PROTECTOR_KEY, KeyStore
from terminal.store.passkeys import set_category
from terminal.store.promotions import load_promotions, save_promotions
from terminal.store.sealing import Sealer

log = logging.getLogger(__name__)


@dataclass
class Terminal:
    pos: PosService
    devices: Devices
    keys: KeyStore
    integrity: IntegrityWatch
    customer_display: CustomerDisplayService | None = None  # made with the terminal

    def __post_init__(self) -> None:
        if self.customer_display is None:
            self.customer_display = CustomerDisplayService(self.pos, self.devices.display)

    @property
    def watch(self) -> DeviceWatch:
        return self.pos.device_watch

    @property
    def scanner(self) -> Scanner:
        return self.devices.scanner

    @property
    def keypad(self) -> Keypad:
        return self.devices.keypad

    @property
    def card(self) -> CardPaymentDesk:
        return self.devices.card

    @property
    def events(self) -> EventStream:
        return self.pos.events

    def start(self) -> None:
        """Start every device (the app sets the scanner's and keypad's handlers first),
        then watch their health and the drawer's sensor."""
        self.devices.start()
        self.customer_display.start()  # (after the display's line is open)
        self.watch.start()
        self.integrity.start()
        self.pos.fiscal.start()  # what the tax office is owed, sent in the background

    def stop(self) -> None:
        """The app is closing: journal it, let the key store remember where the journal
        and the numbers stand, and close every device."""
        now = self.pos.clock()
        self.pos.journal.append("stop", {}, now)
        remember(self.keys, self.pos.db, self.pos.settings.terminal_id, "stop", now)
        self.watch.stop()
        self.customer_display.stop()
        self.integrity.stop()
        self.pos.fiscal.stop()
        self.pos.fiscal.service.close()
        if self.pos.online.client is not None:
            self.pos.online.client.close()
        self.devices.close()

    @property
    def shifts(self) -> Shifts:
        return self.pos.shifts

    @property
    def refunds(self) -> Refunds:
        return self.pos.refunds


def seed_demo(db, hasher: PinHasher, settings: Settings, sealer: Sealer, now) -> None:
    """Fill an empty database with the demo store of the shop's currency (Indonesian,
    Mongolian, Chinese): products, promotions, its two demo users, a member, and the
    passkey categories the configuration names switched on."""
    store = demo_store(settings.store.currency.code)
    if product_count(db) == 0:
        save_products(db, store.products())
        save_promotions(db, store.promotions(now))
        add_customer(db, sealer, *store.member[:3], at=now, member_code=store.member[3])
    if not cashier_count(db):  # (imported cashiers waiting for a PIN count too)
        for cashier_id, name, role, pin in (store.cashier, store.supervisor):
            add_cashier(db, hasher, cashier_id, name, role, pin)
        for category in settings.approval.demo_categories:
            set_category(db, hasher, category, enabled=True, code=DEMO_PASSKEYS[category])


def file_protector_key(security: SecuritySettings) -> Path:
    return security.file_protector_key or Path(security.key_dir) / FILE_PROTECTOR_KEY


def protector_for(security: SecuritySettings, name: str | None = None) -> KeyProtector:
    """The key protector ``[security] protector`` names (or ``name``, with the same
    settings)."""
    return make_protector(
        name or security.protector,
        tpm2_tcti=security.tpm2_tcti,
        file_key=file_protector_key(security),
    )


def open_store(
    settings: Settings, clock: Clock = system_clock, *, check: bool = True, full_check=True
) -> tuple[KeyStore, object, Journal]:
    """The key store (created on first start), the encrypted database checked against the
    key store's memory (``check``), the journal. ``full_check=False``: the integrity check
    of every page is left to the terminal's IntegrityWatch, off the start path."""
    store: OpenStore = open_checked_store(
        settings.security.key_dir,
        protector_for(settings.security),
        settings.database_path,
        settings.terminal_id,
        clock(),
        check=check,
        full_check=full_check,
    )
    return store.keys, store.db, store.journal


def shop_settings(settings: Settings, db, clock: Clock) -> Settings:
    """The shop's configuration in force: the database's (the latest version applied), or
    at the first start the file's shop sections, kept as version 1 (the ``start`` entry
    names the version in force)."""
    config = shop_config.current(db)
    if config is None:
        with db.atomic("IMMEDIATE"):
            shop_config.save(db, settings.shop_document, "configuration file", clock())
        return settings
    if config.document != json.loads(shop_config.canonical(settings.shop_document)):
        log.info(
            "the configuration file's shop sections differ from the shop configuration in "
            "force (version %d, %s): the database's is used; `pos-terminal config apply` "
            "applies the file's",
            config.version,
            config.source,
        )
    return settings.with_shop(parse_shop(config.document))


def build_terminal(
    settings: Settings, *, clock: Clock = system_clock, pin_params: Argon2Params = DEFAULT_PARAMS
) -> Terminal:
    keys, db, journal = open_store(settings, clock, full_check=False)
    settings = shop_settings(settings, db, clock)
    hasher = PinHasher(keys.key("pin_pepper"), pin_params)
    hasher.decoy  # noqa: B018 - computed now, so the first unknown number costs no more
    sealer = Sealer(keys.key("sealing"))
    if settings.store.demo_catalogue:
        seed_demo(db, hasher, settings, sealer, clock())
    catalogue = load_catalogue(db, settings.tax_classes, settings.weighed_formats)
    devices = make_devices(
        settings.hardware,
        settings.data_dir,
        currency=settings.store.currency.code,
        records=DatabaseRecords(db, clock),
    )
    pos = PosService(
        settings,
        db,
        catalogue,
        printer=devices.printer,
        drawer=devices.drawer,
        journal=journal,
        hasher=hasher,
        clock=clock,
        sealer=sealer,
        card=devices.card,
        promotions=load_promotions(db),
        fiscal=make_fiscal(settings.fiscal, settings.data_dir),
    )
    journal.append(
        "start",
        {
            "catalogue_products": len(catalogue.products),
            "shop_config": shop_config.current(db).version,
        },
        clock(),
    )
    pos.devices = devices
    pos.checkpoint = lambda event: remember(keys, db, settings.terminal_id, event, clock())
    integrity = IntegrityWatch(pos, settings.database_path, keys.key("database"))
    return Terminal(pos, devices, keys, integrity)
