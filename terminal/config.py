"""The terminal's one configuration file (TOML), read into typed settings.

Every key is documented in ``config/pos.toml``. A malformed file is refused with a
message naming the key, before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hal.card import configure_card
from hal.device import DeviceConfig, DeviceConfigError
from hal.display import configure_display
from hal.drawer import configure_drawer
from hal.fiscal import configure_fiscal
from hal.keypad import configure_keypad
from hal.printer.backends import configure_printer
from hal.scanner import configure_scanner
from terminal.config_overlay import blame, overlay, read_toml
from terminal.core.approval import CATEGORIES, PASSKEY_MODE, SUPERVISOR_MODE
from terminal.core.barcodes import WeighedFormat
from terminal.core.catalogue import Product
from terminal.core.errors import N_, ConfigError
from terminal.core.fleet_protocol import MAX_BATCH_ENTRIES
from terminal.core.lockout import LockoutPolicy
from terminal.core.loyalty import LoyaltyRules, Tier
from terminal.core.money import Currency, currency
from terminal.core.numbering import check_terminal_id
from terminal.core.shift_report import FRAUD_SIGNALS
from terminal.core.signed_config import SHOP_SECTIONS
from terminal.core.taxes import Tax, TaxClass

LOCALES = ("en", "id", "mn", "zh")
# Who closes the day (prints the Z report): a supervisor (signed in, or approving at the
# prompt), or any cashier
CLOSE_DAY_BY = ("supervisor", "cashier")
# Reasons for cash put into or taken out of the drawer. A shop's list names these (shown
# in the terminal's language) or gives its own text (shown and journaled as written).
CASH_REASON_NAMES = {
    "float_top_up": N_("Float top-up"),
    "from_safe": N_("Cash from the safe"),
    "bank_deposit": N_("Bank deposit"),
    "to_safe": N_("Cash to the safe"),
    "petty_cash": N_("Petty cash"),
    "supplier": N_("Supplier paid"),
    "correction": N_("Correcting a mistake"),
}
DEFAULT_CASH_REASONS = {
    "cash_in": ("float_top_up", "from_safe", "correction"),
    "cash_out": ("bank_deposit", "to_safe", "petty_cash", "supplier", "correction"),
}
DEFAULT_KEYS = {
    "pay_cash": ["f12", "numpadadd"],
    "quantity": ["numpadmul", "*"],
    "remove_line": ["delete"],
    "search": ["f3"],
    "sign_out": ["f10"],
    "back": ["escape"],
    "line_up": ["up"],
    "line_down": ["down"],
    "resume_printing": ["f9"],
    "discount": ["f5"],
    "cancel_sale": ["f6"],
    "pay_card": ["f11"],
    "refund": ["f7"],
    "shift": ["f8"],
    "customer": ["f2"],
    "no_receipt": ["insert"],
    "restock": ["home"],
    "online_orders": ["f4"],
}


@dataclass(frozen=True)
class StoreSettings:
    name: str
    address: tuple[str, ...]
    tax_id: str
    currency: Currency
    locale: str
    timezone: ZoneInfo
    prices_include_tax: bool
    cash_rounding: int
    receipt_footer: tuple[str, ...]
    demo_catalogue: bool
    # the languages a cashier may pick at sign-in, the shop's own first (alone: no choice)
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class HardwareSettings:
    """Each device's backend and its typed settings (``hal.<kind>`` checks them)."""

    printer: DeviceConfig
    drawer: DeviceConfig
    scanner: DeviceConfig
    keypad: DeviceConfig
    card: DeviceConfig
    display: DeviceConfig  # the customer's pole display (backend none: there is none)

    def replace(self, kind: str, **changes: Any) -> HardwareSettings:
        """Another backend setting for one device (``card``, ``approve_after=0``):
        checked again like the file's."""
        config: DeviceConfig = getattr(self, kind)
        table = {"backend": config.backend, **_struct_dict(config.settings), **changes}
        return replace(self, **{kind: _CONFIGURE[kind](table)})


def _struct_dict(settings: Any) -> dict[str, Any]:
    import msgspec  # noqa: PLC0415 - only for a setting replaced in code

    return msgspec.structs.asdict(settings)


_CONFIGURE = {
    "printer": configure_printer,
    "drawer": configure_drawer,
    "scanner": configure_scanner,
    "keypad": configure_keypad,
    "card": configure_card,
    "display": configure_display,
}


def _hardware(table: dict[str, Any]) -> HardwareSettings:
    _only(table, "hardware", _CONFIGURE)
    configs = {}
    for kind, configure in _CONFIGURE.items():
        section = _get(table, kind, dict, "hardware", {})
        try:
            configs[kind] = configure(section)
        except DeviceConfigError as exc:
            raise ConfigError(str(exc)) from None
    return HardwareSettings(**configs)


@dataclass(frozen=True)
class OnlineOrderSettings:
    """A CS desk's online orders (seed 001): the terminal asks the fleet over its broker
    (``[fleet]`` gives the broker and the certificate)."""

    enabled: bool = False
    timeout_seconds: float = 5.0  # the fleet's answer to a call, at most
    code_tax_class: str = ""  # the tax class of the unique code added to the amount due


def _online_orders(table: dict[str, Any]) -> OnlineOrderSettings:
    timeout = _get(table, "timeout_seconds", (int, float), "online_orders", 5.0)
    if not 0.5 <= timeout <= 60:
        raise ConfigError("online_orders.timeout_seconds: from 0.5 to 60")
    return OnlineOrderSettings(
        enabled=_get(table, "enabled", bool, "online_orders", False),
        timeout_seconds=float(timeout),
        code_tax_class=_get(table, "code_tax_class", str, "online_orders", ""),
    )


def _fiscal(table: dict[str, Any]) -> DeviceConfig:
    try:
        return configure_fiscal(table)
    except DeviceConfigError as exc:
        raise ConfigError(str(exc)) from None


def _only(table: dict[str, Any], where: str, known) -> None:
    """Refuse a key nobody reads: a typo must not fall back to a default in silence."""
    for key in table:
        if key not in known:
            prefix = f"{where}." if where else ""
            raise ConfigError(f"{prefix}{key}: unknown key; known: {', '.join(known)}")


PROTECTORS = ("tpm2", "rpi-otp", "file")
ENVIRONMENTS = ("production", "development")


@dataclass(frozen=True)
class SecuritySettings:
    key_dir: Path
    lockout: LockoutPolicy
    recovery_public_key: str = ""  # base64 X25519 public key; empty: no recovery export
    protector: str = "file"  # what wraps the key store: tpm2 | rpi-otp | file
    tpm2_tcti: str = "device:/dev/tpmrm0"
    file_protector_key: Path | None = None  # the file protector's key; None: in key_dir


@dataclass(frozen=True)
class UiSettings:
    fullscreen: bool = True
    width: int = 800
    height: int = 480
    dpi: int = 133
    screenshot_dir: Path | None = None
    on_screen_keyboard: bool = True  # text fields get a keyboard on the screen (touch only)


@dataclass(frozen=True)
class ApprovalSettings:
    mode: str = SUPERVISOR_MODE  # passkey | supervisor
    void_window: timedelta = timedelta(seconds=30)
    cashier_discount_percent: Decimal = Decimal(0)
    demo_categories: tuple[str, ...] = ()  # switched on in a new demo database
    close_day: str = "supervisor"  # who prints the Z report: supervisor | cashier


@dataclass(frozen=True)
class FleetSettings:
    """The fleet agent (``pos-terminal agent``): the broker, the terminal's own client
    certificate (its common name is the terminal id) and how the journal is sent."""

    enabled: bool = False  # off: nothing is sent, `make run` needs no broker
    host: str = "localhost"
    port: int = 8883
    ca_file: Path | None = None  # the fleet CA's certificate: the broker is checked with it
    cert_file: Path | None = None  # this terminal's client certificate
    key_file: Path | None = None  # ... and its private key
    batch_size: int = 200  # journal entries per message
    max_in_flight: int = 2000  # entries sent and not yet acknowledged, at most
    keepalive_seconds: int = 30
    backoff_base_seconds: float = 1.0  # reconnect: a random wait up to base * 2^attempt,
    backoff_cap_seconds: float = 60.0  # ... and never more than the cap
    ack_timeout_seconds: float = 30.0  # no acknowledgement for so long: send again
    group: str = ""  # the terminal's group: the group documents it takes ('' : none)
    config_root_key: Path | None = None  # the fleet's root public key (PEM), pinned at
    # enrollment: configuration from the fleet is verified to it; None: refused (untrusted)


FLEET_FILES = ("ca_file", "cert_file", "key_file")


def _fleet(table: dict[str, Any]) -> FleetSettings:
    where = "fleet"
    default = FleetSettings()

    def number(key: str, kind, low, high):
        value = _get(table, key, kind, where, getattr(default, key))
        if isinstance(value, bool):
            raise ConfigError(f"{where}.{key}: expected a number, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(f"{where}.{key}: must be from {low} to {high}")
        return value

    enabled = _get(table, "enabled", bool, where, False)
    host = _get(table, "host", str, where, default.host).strip()
    if enabled and not host:
        raise ConfigError(f"{where}.host: the broker's host name is needed when enabled")
    files = {}
    for key in FLEET_FILES:
        value = _get(table, key, str, where, "")
        if enabled and not value:
            raise ConfigError(f"{where}.{key}: a file is needed when enabled")
        files[key] = Path(value) if value else None
    batch_size = number("batch_size", int, 1, MAX_BATCH_ENTRIES)
    in_flight = number("max_in_flight", int, 1, 1_000_000)
    if in_flight < batch_size:
        raise ConfigError(f"{where}.max_in_flight: must be at least batch_size ({batch_size})")
    group = _get(table, "group", str, where, "").strip()
    if len(group) > 100:
        raise ConfigError(f"{where}.group: at most 100 characters")
    root_key = _get(table, "config_root_key", str, where, "").strip()
    base = number("backoff_base_seconds", (int, float), 0.01, 3600)
    cap = number("backoff_cap_seconds", (int, float), 0.01, 86400)
    if cap < base:
        raise ConfigError(f"{where}.backoff_cap_seconds: must be at least backoff_base_seconds")
    return FleetSettings(
        enabled=enabled,
        host=host,
        port=number("port", int, 1, 65535),
        batch_size=batch_size,
        max_in_flight=in_flight,
        keepalive_seconds=number("keepalive_seconds", int, 5, 3600),
        backoff_base_seconds=float(base),
        backoff_cap_seconds=float(cap),
        ack_timeout_seconds=float(number("ack_timeout_seconds", (int, float), 0.1, 86400)),
        group=group,
        config_root_key=Path(root_key) if root_key else None,
        **files,
    )


# SHOP_SECTIONS (terminal.core.signed_config): the shop's part of the settings; a shop
# document may also carry products to add or change (not in the file: the demo store and
# the fleet bring them)


@dataclass(frozen=True)
class ShopSettings:
    """The shop's rules and texts: kept in the database (seeded from the file at the first
    start), changed while the terminal runs by applying a new shop configuration."""

    store: StoreSettings
    tax_classes: dict[str, TaxClass]
    weighed_formats: list[WeighedFormat]
    keys: dict[str, list[str]]
    approval: ApprovalSettings
    fraud_thresholds: dict[str, int]
    loyalty: LoyaltyRules
    cash_reasons: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_CASH_REASONS)
    )


@dataclass(frozen=True)
class Settings:
    """Everything the terminal runs with: its own (terminal id, paths, hardware, screen,
    security: the file) and the shop's (:class:`ShopSettings`, by the same names)."""

    terminal_id: str
    data_dir: Path
    store: StoreSettings
    tax_classes: dict[str, TaxClass]
    weighed_formats: list[WeighedFormat]
    hardware: HardwareSettings
    ui: UiSettings
    security: SecuritySettings
    keys: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_KEYS))
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    fraud_thresholds: dict[str, int] = field(default_factory=dict)
    loyalty: LoyaltyRules = field(default_factory=LoyaltyRules)
    # the reasons offered for a cash move: {"cash_in": (...), "cash_out": (...)}
    cash_reasons: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_CASH_REASONS)
    )
    environment: str = "production"  # development: make run, the simulators
    fleet: FleetSettings = field(default_factory=FleetSettings)
    # where the shop's receipts are registered with the tax office (``hal.fiscal``):
    # Mongolia's e-barimt; none elsewhere
    fiscal: DeviceConfig = field(default_factory=lambda: configure_fiscal({}))
    online_orders: OnlineOrderSettings = field(default_factory=lambda: OnlineOrderSettings())
    # the file's shop sections as written: the first shop configuration of a new terminal
    shop_document: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "pos.db"

    @property
    def shop(self) -> ShopSettings:
        return ShopSettings(**{f.name: getattr(self, f.name) for f in fields(ShopSettings)})

    def with_shop(self, shop: ShopSettings) -> Settings:
        return replace(self, **{f.name: getattr(shop, f.name) for f in fields(ShopSettings)})


def _get(table: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}.{key}: missing")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}.{key}: expected {names}, got {value!r}")
    return value


def _tax_classes(table: dict) -> dict[str, TaxClass]:
    classes = {}
    for code, spec in table.items():
        where = f"taxes.{code}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: expected a table")
        _only(spec, where, ("name", "rates"))
        rates = []
        for i, rate in enumerate(_get(spec, "rates", list, where)):
            at = f"{where}.rates[{i}]"
            if not isinstance(rate, dict):
                raise ConfigError(f"{at}: expected a table")
            _only(rate, at, ("code", "name", "rate"))
            try:
                percent = Decimal(str(_get(rate, "rate", (str, int, float), at)))
            except InvalidOperation:
                raise ConfigError(f"{at}.rate: not a number") from None
            if not (0 <= percent < 100):
                raise ConfigError(f"{at}.rate: must be a percentage from 0 to 100")
            rates.append(Tax(_get(rate, "code", str, at), _get(rate, "name", str, at), percent))
        classes[code] = TaxClass(code, _get(spec, "name", str, where), tuple(rates))
    if not classes:
        raise ConfigError("taxes: at least one tax class is needed")
    return classes


def _keys(table: dict) -> dict[str, list[str]]:
    """The shop's key map over the defaults. A key the shop gives an action is taken
    from the default of any action it did not map: a shop that mapped Insert before a
    new action came with Insert as its default keeps its own use of it (the new action
    then has its other keys, or only its button)."""
    chosen: dict[str, list[str]] = {}
    for action, names in table.items():
        if action not in DEFAULT_KEYS:
            raise ConfigError(f"keys.{action}: unknown action; known: {', '.join(DEFAULT_KEYS)}")
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"keys.{action}: expected a key name or a list of them")
        chosen[action] = names
    taken = {name for names in chosen.values() for name in names}
    return {
        action: chosen.get(action, [name for name in default if name not in taken])
        for action, default in DEFAULT_KEYS.items()
    }


def _approval(table: dict) -> ApprovalSettings:
    mode = _get(table, "mode", str, "approval", SUPERVISOR_MODE)
    if mode not in (PASSKEY_MODE, SUPERVISOR_MODE):
        raise ConfigError("approval.mode: must be 'passkey' or 'supervisor'")
    window = _get(table, "void_window_seconds", (int, float), "approval", 30)
    if window < 0:
        raise ConfigError("approval.void_window_seconds: must be 0 or more")
    limit = Decimal(str(_get(table, "cashier_discount_percent", (int, float), "approval", 0)))
    if not 0 <= limit <= 100:
        raise ConfigError("approval.cashier_discount_percent: must be from 0 to 100")
    demo = _get(table, "demo_categories", list, "approval", [])
    for name in demo:
        if name not in CATEGORIES:
            raise ConfigError(f"approval.demo_categories: unknown {name!r}")
    close_day = _get(table, "close_day", str, "approval", "supervisor")
    if close_day not in CLOSE_DAY_BY:
        raise ConfigError(f"approval.close_day: must be one of {', '.join(CLOSE_DAY_BY)}")
    return ApprovalSettings(mode, timedelta(seconds=window), limit, tuple(demo), close_day)


def _cash_reasons(table: dict) -> dict[str, tuple[str, ...]]:
    reasons = {}
    for kind, default in DEFAULT_CASH_REASONS.items():
        names = _get(table, kind, list, "cash_reasons", list(default))
        at = f"cash_reasons.{kind}"
        if not names:
            raise ConfigError(f"{at}: at least one reason")
        for name in names:
            if not isinstance(name, str) or not name.strip() or len(name) > 40:
                raise ConfigError(f"{at}: each reason is a text of 1 to 40 characters")
            if not name.isprintable():
                raise ConfigError(f"{at}: {name!r} has characters that cannot be shown")
        if len(set(names)) != len(names):
            raise ConfigError(f"{at}: a reason is listed twice")
        reasons[kind] = tuple(names)
    return reasons


def cash_reason_label(reason: str, gettext) -> str:
    """A reason as the cashier reads it: a built-in one translated, a shop's own as written."""
    name = CASH_REASON_NAMES.get(reason)
    return gettext(name) if name else reason


def _fraud(table: dict) -> dict[str, int]:
    thresholds = {}
    for key, value in table.items():
        if key not in FRAUD_SIGNALS:
            raise ConfigError(f"fraud.{key}: unknown; known: {', '.join(FRAUD_SIGNALS)}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"fraud.{key}: expected a whole number, 0 or more")
        thresholds[key] = value
    return thresholds


def _loyalty(table: dict) -> LoyaltyRules:
    earn_per = _get(table, "earn_per", int, "loyalty", 10000)
    point_value = _get(table, "point_value", int, "loyalty", 100)
    if earn_per < 1 or point_value < 1:
        raise ConfigError("loyalty.earn_per and loyalty.point_value: must be 1 or more")
    tiers = []
    for rank, spec in enumerate(_get(table, "tiers", list, "loyalty", []), start=1):
        at = f"loyalty.tiers[{rank - 1}]"
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a table")
        _only(spec, at, ("name", "min_points"))
        tiers.append(Tier(rank, _get(spec, "name", str, at), _get(spec, "min_points", int, at)))
    return LoyaltyRules(earn_per, point_value, tuple(tiers) or LoyaltyRules().tiers)


def _languages(st: dict, locale: str) -> tuple[str, ...]:
    """The shop's language first, then the others a cashier may pick at sign-in."""
    chosen = _get(st, "languages", list, "store", [])
    for name in chosen:
        if name not in LOCALES:
            raise ConfigError(f"store.languages: {name!r} is not one of {', '.join(LOCALES)}")
    return tuple(dict.fromkeys([locale, *chosen]))


def _denominations(st: dict, cur: Currency) -> Currency:
    notes = _get(st, "denominations", list, "store", [])
    if not notes:
        return cur
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in notes):
        raise ConfigError("store.denominations: whole amounts in minor units, above 0")
    return replace(cur, denominations=tuple(sorted(set(notes))))


KNOWN = {
    "": (
        "terminal",
        "store",
        "taxes",
        "weighed_barcodes",
        "hardware",
        "fiscal",
        "online_orders",
        "security",
        "ui",
        "keys",
        "approval",
        "fraud",
        "loyalty",
        "cash_reasons",
        "fleet",
    ),
    "terminal": ("id", "data_dir", "environment"),
    "store": (
        "name",
        "address",
        "tax_id",
        "currency",
        "locale",
        "timezone",
        "prices_include_tax",
        "cash_rounding",
        "denominations",
        "receipt_footer",
        "demo_catalogue",
        "languages",
    ),
    "security": (
        "key_dir",
        "protector",
        "tpm2_tcti",
        "file_protector_key",
        "max_failures",
        "first_lock_seconds",
        "max_lock_seconds",
        "recovery_public_key",
    ),
    "ui": ("fullscreen", "width", "height", "dpi", "screenshot_dir", "on_screen_keyboard"),
    "approval": (
        "mode",
        "void_window_seconds",
        "cashier_discount_percent",
        "demo_categories",
        "close_day",
    ),
    "loyalty": ("earn_per", "point_value", "tiers"),
    "cash_reasons": ("cash_in", "cash_out"),
    "online_orders": ("enabled", "timeout_seconds", "code_tax_class"),
    "fleet": (
        "enabled",
        "host",
        "port",
        *FLEET_FILES,
        "batch_size",
        "max_in_flight",
        "keepalive_seconds",
        "backoff_base_seconds",
        "backoff_cap_seconds",
        "ack_timeout_seconds",
        "group",
        "config_root_key",
    ),
}


def _check_known(doc: dict[str, Any]) -> None:
    """Every key of the file is one somebody reads (``keys`` and ``fraud`` name their
    own; tax classes, scale labels and hardware are checked where they are read)."""
    _only(doc, "", KNOWN[""])
    for section, known in KNOWN.items():
        if section and isinstance(doc.get(section), dict):
            _only(doc[section], section, known)


def parse_settings(doc: dict[str, Any]) -> Settings:
    _check_known(doc)
    term = _get(doc, "terminal", dict, "")
    try:
        terminal_id = check_terminal_id(_get(term, "id", str, "terminal"))
    except ValueError as exc:
        raise ConfigError(f"terminal.id: {exc}") from None
    data_dir = Path(_get(term, "data_dir", str, "terminal", "var"))
    sec = _get(doc, "security", dict, "", {})
    key_dir = _get(sec, "key_dir", str, "security", "")
    limits = {}
    for key in ("max_failures", "first_lock_seconds", "max_lock_seconds"):
        value = _get(sec, key, int, "security", getattr(LockoutPolicy, key))
        if value < 1:
            raise ConfigError(f"security.{key}: must be 1 or more")
        limits[key] = value
    protector = _get(sec, "protector", str, "security", "file")
    if protector not in PROTECTORS:
        raise ConfigError(
            f"security.protector: {protector!r} is not one of {', '.join(PROTECTORS)}"
        )
    tcti = _get(sec, "tpm2_tcti", str, "security", "device:/dev/tpmrm0")
    if ":" not in tcti:
        raise ConfigError("security.tpm2_tcti: expected NAME:CONFIG, e.g. device:/dev/tpmrm0")
    file_key = _get(sec, "file_protector_key", str, "security", "")
    security = SecuritySettings(
        key_dir=Path(key_dir) if key_dir else data_dir / "keys",
        lockout=LockoutPolicy(**limits),
        recovery_public_key=_get(sec, "recovery_public_key", str, "security", ""),
        protector=protector,
        tpm2_tcti=tcti,
        file_protector_key=Path(file_key) if file_key else None,
    )
    environment = _get(term, "environment", str, "terminal", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"terminal.environment: {environment!r} is not one of {', '.join(ENVIRONMENTS)}"
        )
    ui = _get(doc, "ui", dict, "", {})
    shots = _get(ui, "screenshot_dir", str, "ui", "")
    hardware = _hardware(_get(doc, "hardware", dict, "", {}))
    shop = parse_shop(doc)
    return Settings(
        terminal_id=terminal_id,
        data_dir=data_dir,
        store=shop.store,
        tax_classes=shop.tax_classes,
        weighed_formats=shop.weighed_formats,
        hardware=hardware,
        ui=UiSettings(
            fullscreen=_get(ui, "fullscreen", bool, "ui", True),
            width=_get(ui, "width", int, "ui", 800),
            height=_get(ui, "height", int, "ui", 480),
            dpi=_get(ui, "dpi", int, "ui", 133),
            on_screen_keyboard=_get(ui, "on_screen_keyboard", bool, "ui", True),
            screenshot_dir=Path(shots) if shots else None,
        ),
        security=security,
        keys=shop.keys,
        approval=shop.approval,
        fraud_thresholds=shop.fraud_thresholds,
        loyalty=shop.loyalty,
        cash_reasons=shop.cash_reasons,
        environment=environment,
        fleet=_fleet(_get(doc, "fleet", dict, "", {})),
        fiscal=_fiscal(_get(doc, "fiscal", dict, "", {})),
        online_orders=_online_orders(_get(doc, "online_orders", dict, "", {})),
        shop_document=shop_document(doc),
    )


def shop_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The shop's sections of a configuration file, as a document to keep or send."""
    return {section: doc[section] for section in SHOP_SECTIONS if section in doc}


PRODUCT_KEYS = (
    "sku",
    "name",
    "price",
    "tax_class",
    "barcodes",
    "sold_by_weight",
    "plu",
    "category",
    "classification",
)


def parse_products(items: Any, tax_classes: dict[str, TaxClass]) -> list[Product]:
    """Products in a shop document: each checked, its tax class one the document has."""
    if not isinstance(items, list):
        raise ConfigError("products: expected a list of tables")
    products = []
    for i, item in enumerate(items):
        at = f"products[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a table")
        _only(item, at, PRODUCT_KEYS)
        price = _get(item, "price", int, at)
        if price < 0:
            raise ConfigError(f"{at}.price: must be 0 or more (minor units)")
        tax_class = _get(item, "tax_class", str, at)
        if tax_class not in tax_classes:
            raise ConfigError(f"{at}.tax_class: {tax_class!r} is not one of the taxes")
        barcodes = _get(item, "barcodes", list, at, [])
        if not all(isinstance(code, str) for code in barcodes):
            raise ConfigError(f"{at}.barcodes: expected a list of codes")
        plu = _get(item, "plu", str, at, None)
        products.append(
            Product(
                sku=_get(item, "sku", str, at),
                name=_get(item, "name", str, at),
                price=price,
                tax_class=tax_class,
                barcodes=tuple(barcodes),
                sold_by_weight=_get(item, "sold_by_weight", bool, at, False),
                plu=plu,
                category=_get(item, "category", str, at, ""),
                classification=_get(item, "classification", str, at, ""),
            )
        )
    return products


def parse_shop(doc: dict[str, Any]) -> ShopSettings:
    """The shop's sections of a configuration file or a shop document, checked."""
    for section in SHOP_SECTIONS:
        if section in KNOWN and isinstance(doc.get(section), dict):
            _only(doc[section], section, KNOWN[section])
    st = _get(doc, "store", dict, "")
    locale = _get(st, "locale", str, "store", "en")
    if locale not in LOCALES:
        raise ConfigError(f"store.locale: {locale!r} is not one of {', '.join(LOCALES)}")
    try:
        timezone = ZoneInfo(_get(st, "timezone", str, "store", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"store.timezone: unknown time zone {st.get('timezone')!r}") from None
    languages = _languages(st, locale)
    rounding = _get(st, "cash_rounding", int, "store", 1)
    if rounding < 1:
        raise ConfigError("store.cash_rounding: must be 1 or more")
    store = StoreSettings(
        name=_get(st, "name", str, "store"),
        address=tuple(_get(st, "address", list, "store", [])),
        tax_id=_get(st, "tax_id", str, "store", ""),
        currency=_denominations(st, currency(_get(st, "currency", str, "store"))),
        locale=locale,
        timezone=timezone,
        prices_include_tax=_get(st, "prices_include_tax", bool, "store", True),
        cash_rounding=rounding,
        receipt_footer=tuple(_get(st, "receipt_footer", list, "store", [])),
        demo_catalogue=_get(st, "demo_catalogue", bool, "store", False),
        languages=languages,
    )
    formats = []
    for i, spec in enumerate(_get(doc, "weighed_barcodes", list, "", [])):
        at = f"weighed_barcodes[{i}]"
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a table")
        _only(spec, at, ("prefix", "kind"))
        kind = _get(spec, "kind", str, at)
        if kind not in ("price", "weight"):
            raise ConfigError(f"{at}.kind: must be 'price' or 'weight'")
        decimals = 3 if kind == "weight" else 0
        try:
            formats.append(
                WeighedFormat(_get(spec, "prefix", str, at), kind, value_decimals=decimals)
            )
        except ValueError as exc:
            raise ConfigError(f"{at}: {exc}") from None
    return ShopSettings(
        store=store,
        tax_classes=_tax_classes(_get(doc, "taxes", dict, "")),
        weighed_formats=formats,
        keys=_keys(_get(doc, "keys", dict, "", {})),
        approval=_approval(_get(doc, "approval", dict, "", {})),
        fraud_thresholds=_fraud(_get(doc, "fraud", dict, "", {})),
        loyalty=_loyalty(_get(doc, "loyalty", dict, "", {})),
        cash_reasons=_cash_reasons(_get(doc, "cash_reasons", dict, "", {})),
    )


def load_settings(path: Path, store: Path | None = None) -> Settings:
    """The configuration file, checked; ``store``: a store file's sections over it
    (:mod:`terminal.config_overlay`), each error named after the file it is in."""
    doc = read_toml(path, "configuration")
    if store is None:
        try:
            return parse_settings(doc)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    store_doc = read_toml(store, "store")
    try:
        merged = overlay(doc, store_doc)
    except ConfigError as exc:
        raise ConfigError(f"{store}: {exc}") from None
    try:
        return parse_settings(merged)
    except ConfigError as exc:
        raise blame(exc, store_doc, path, store) from None
