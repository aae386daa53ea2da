"""The fleet side's settings, from one documented TOML file (``config/fleet.toml``).

Decoded into typed structs: an unknown key or a wrong type is refused with its place
named (``broker.port: Expected int, got str``), never ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from terminal.core.online_orders import DeadlineRule

DEFAULT_FILE = Path("config/fleet.toml")


class ConfigError(ValueError):
    """The fleet's configuration file is malformed."""


class DatabaseSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    url: str = "sqlite:///var/fleet/fleet.db"


class BrokerConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8883
    ca_file: str = "var/fleet/pki/ca.crt"
    cert_file: str = "var/fleet/pki/fleet-ingest.crt"
    key_file: str = "var/fleet/pki/fleet-ingest.key"
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "fleet-ingest-1"
    keepalive: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 30


class PkiSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    dir: str = "var/fleet/pki"
    # the root CA (kept off-line in production; "": beside dir, as dir + "-root")
    root_dir: str = ""
    broker_names: list[str] = msgspec.field(default_factory=lambda: ["localhost", "127.0.0.1"])


class LocalBrokerSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    dir: str = "var/fleet/broker"
    # the enrollment broker (a second Mosquitto, for terminals not enrolled yet): where it
    # listens; port 0: none
    enroll_host: str = "0.0.0.0"
    enroll_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8884


class EnrollmentSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    # `pos-fleet serve` answers terminals that enroll with a token (pos-provision token)
    enabled: bool = True
    # where pos-fleet serve reaches the enrollment broker (its password: [pki] dir's
    # enroller.secret, made by `pos-fleet ca init` or `pos-provision pki init`)
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8884
    # what a provisioning bundle tells a new terminal: the broker's address as the shops
    # reach it, its port for enrolled terminals and the enrollment broker's
    broker_host: str = "localhost"
    broker_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8883
    enroll_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8884
    token_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 72


class SigningSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    dir: str = "var/fleet/signing"


class ConsoleSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8080
    # TLS served by the console itself (uvicorn); empty: plain HTTP, for a reverse proxy
    # that terminates TLS in front of it, or for a demo on one machine
    cert_file: str = ""
    key_file: str = ""
    # cookies only over HTTPS (true in production; false for a demo over plain HTTP)
    secure_cookies: bool = True
    language: Annotated[str, msgspec.Meta(pattern="^(en|id)$")] = "en"
    # the addresses of reverse proxies whose X-Forwarded-For the throttle may trust
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    # who may read /metrics (Prometheus); nobody else gets it
    metrics_from: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1", "::1"])
    # owners may propose configuration changes for their stores; a fleet admin approves
    owner_proposals: bool = False


class OrdersSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    # online orders (seed 001): CS terminals book items from central stock
    enabled: bool = False
    # an unpaid booking is released at a time of day ("17:00": after it, the next day's)
    # or after hours ("24h"), in its store's time zone
    deadline: str = "17:00"
    warehouses: list[str] = msgspec.field(default_factory=lambda: ["WH"])  # drop orders
    # the unique code added to the amount due, so each transfer is known; 0 0: none
    code_low: Annotated[int, msgspec.Meta(ge=0, le=9999)] = 1
    code_high: Annotated[int, msgspec.Meta(ge=0, le=9999)] = 999
    release_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 30  # deadline checks
    timezone: str = "Asia/Jakarta"  # the banks' statements' dates are this zone's
    # airway bills (fleet.shipping): "none" (no contract: CS types each number from the
    # courier's slip), "biteship" (its order API), "simulator" (fleet.shipping.simulator)
    courier_api: Annotated[str, msgspec.Meta(pattern="^(none|biteship|simulator)$")] = "none"
    courier_url: str = "https://api.biteship.com"
    courier_key_env: str = "BITESHIP_API_KEY"  # the environment variable with the API key
    courier_timeout: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    # the shop as the sender (the courier picks up here; printed on the labels)
    origin_name: str = ""
    origin_phone: str = ""
    origin_address: str = ""
    origin_postal_code: str = ""

    def __post_init__(self) -> None:
        DeadlineRule.parse(self.deadline)  # ValueError: said with the key by load_config
        if self.courier_api == "biteship" and not self.courier_url.startswith("https://"):
            raise ValueError("courier_url: https:// (the API key goes with every call)")
        if self.courier_api != "none":
            if not (self.origin_name and self.origin_phone and self.origin_address):
                raise ValueError("origin_name: the sender's name, phone and address")
            if not re.fullmatch(r"\d{5}", self.origin_postal_code):
                raise ValueError("origin_postal_code: five digits")
        if self.code_high and not 0 < self.code_low <= self.code_high:
            raise ValueError("code_low: from 1 up to code_high")
        if not self.warehouses:
            raise ValueError("warehouses: at least one")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None


class FleetConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    broker: BrokerConfig = msgspec.field(default_factory=BrokerConfig)
    pki: PkiSettings = msgspec.field(default_factory=PkiSettings)
    local_broker: LocalBrokerSettings = msgspec.field(default_factory=LocalBrokerSettings)
    signing: SigningSettings = msgspec.field(default_factory=SigningSettings)
    console: ConsoleSettings = msgspec.field(default_factory=ConsoleSettings)
    enrollment: EnrollmentSettings = msgspec.field(default_factory=EnrollmentSettings)
    orders: OrdersSettings = msgspec.field(default_factory=OrdersSettings)


def load_config(path: Path | None) -> FleetConfig:
    """The file's settings (``path`` None: the default file if there is one, else the
    defaults). ConfigError names the file and the key."""
    if path is None:
        if not DEFAULT_FILE.exists():
            return FleetConfig()
        path = DEFAULT_FILE
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    try:
        return msgspec.toml.decode(data, type=FleetConfig)
    except msgspec.ValidationError as exc:
        where = str(exc).rsplit(" - at `$.", 1)
        text = f"{where[1].rstrip('`')}: {where[0]}" if len(where) == 2 else str(exc)
        raise ConfigError(f"{path}: {text}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not TOML: {exc}") from None
