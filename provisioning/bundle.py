"""The provisioning bundle: one TOML file a technician's ``pos-provision card`` writes on
a terminal's boot partition (``pos-provision.toml``), read once by its first boot and then
deleted. Everything in it but the token is public; the token opens one enrollment, once,
until it expires.

    # POS terminal provisioning bundle, for T07 (written by pos-provision card)
    [terminal]
    id = "T07"                        # the id its certificate and receipts carry
    store = "Toko Sumber Rejeki"      # as the fleet registers it
    group = "north"                   # its configuration group ("": none)
    locale = "id"                     # screens and receipts: en, id
    timezone = "Asia/Jakarta"
    key_protector = "auto"            # tpm2, rpi-otp, file, or auto (tpm2 if the board has
                                      # a TPM, else the Pi's OTP key, else a file: warned)

    [fleet]
    host = "fleet.example.com"        # the broker, as the shop reaches it
    port = 8883                       # enrolled terminals (mutual TLS)
    enroll_port = 8884                # the enrollment broker (TLS, no client certificate)
    ca = "-----BEGIN CERTIFICATE-----\\n..."  # the fleet's CA file: the broker is checked with it
    token = "..."                     # one-time, secret: deleted after the first boot
    token_expires = "2026-11-30T09:00:00Z"

    [wifi]                            # optional: the shop's network (else Ethernet, DHCP)
    ssid = "TOKO-5G"
    password = "..."
    country = "ID"

    [hardware.printer]                # optional: the shop's devices, as in pos.toml
    backend = "usb"                   # (the image's configuration has simulators)
    vendor_id = 0x04b8
    product_id = 0x0202
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

from provisioning.terminal_config import toml_literal

FILE_NAME = "pos-provision.toml"
PROTECTORS = ("auto", "tpm2", "rpi-otp", "file")
LOCALES = ("en", "id")


class BundleError(ValueError):
    """A bundle that is missing or malformed: the reason names the file and the key."""


PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"  # no control character (a line break above all)


class TerminalPart(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{1,8}$")]
    store: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PRINTABLE)]
    group: Annotated[str, msgspec.Meta(max_length=100, pattern=PRINTABLE)] = ""
    locale: str = "en"
    timezone: str = "UTC"
    key_protector: str = "auto"


class FleetPart(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    ca: Annotated[str, msgspec.Meta(min_length=1, max_length=16384)]
    token: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8883
    enroll_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8884
    token_expires: str = ""


class WifiPart(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    ssid: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    password: Annotated[str, msgspec.Meta(max_length=63)] = ""
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] = "ID"


DEVICES = ("printer", "drawer", "scanner", "keypad", "card", "display")
Setting = str | int | float | bool | list[str | int | float | bool]


class Bundle(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    terminal: TerminalPart
    fleet: FleetPart
    wifi: WifiPart | None = None
    # per device kind, its [hardware.KIND] settings (checked by the terminal's own loader
    # when the card is written and again at the first boot)
    hardware: dict[str, dict[str, Setting]] = msgspec.field(default_factory=dict)


def _check(bundle: Bundle, where: str) -> Bundle:
    if bundle.terminal.locale not in LOCALES:
        raise BundleError(f"{where}: terminal.locale: one of {', '.join(LOCALES)}")
    if bundle.terminal.key_protector not in PROTECTORS:
        raise BundleError(f"{where}: terminal.key_protector: one of {', '.join(PROTECTORS)}")
    if "BEGIN CERTIFICATE" not in bundle.fleet.ca:
        raise BundleError(f"{where}: fleet.ca: not a PEM certificate")
    for kind in bundle.hardware:
        if kind not in DEVICES:
            raise BundleError(f"{where}: hardware.{kind}: one of {', '.join(DEVICES)}")
    if bundle.wifi and bundle.wifi.password and len(bundle.wifi.password) < 8:
        raise BundleError(f"{where}: wifi.password: WPA needs 8 to 63 characters")
    return bundle


def parse(text: str, where: str = FILE_NAME) -> Bundle:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BundleError(f"{where}: not valid TOML: {exc}") from None
    try:
        bundle = msgspec.convert(data, Bundle)
    except msgspec.ValidationError as exc:
        raise BundleError(f"{where}: {exc}") from None
    return _check(bundle, where)


def read(boot: Path) -> Bundle:
    path = boot / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{path}: no provisioning bundle (pos-provision card)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: unreadable: {exc}") from None
    return parse(text, str(path))


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for these characters)."""
    return json.dumps(value, ensure_ascii=False)


def render(bundle: Bundle) -> str:
    t, f = bundle.terminal, bundle.fleet
    lines = [
        f"# POS terminal provisioning bundle, for {t.id} (written by pos-provision card).",
        "# Read once by the terminal's first boot (pos-provision firstboot), then deleted.",
        "# The token is secret: keep this card with you until it is in the terminal.",
        "",
        "[terminal]",
        f"id = {_toml_string(t.id)}",
        f"store = {_toml_string(t.store)}",
        f"group = {_toml_string(t.group)}",
        f"locale = {_toml_string(t.locale)}",
        f"timezone = {_toml_string(t.timezone)}",
        f"key_protector = {_toml_string(t.key_protector)}",
        "",
        "[fleet]",
        f"host = {_toml_string(f.host)}",
        f"port = {f.port}",
        f"enroll_port = {f.enroll_port}",
        f"ca = {_toml_string(f.ca)}",
        f"token = {_toml_string(f.token)}",
        f"token_expires = {_toml_string(f.token_expires)}",
    ]
    if bundle.wifi:
        w = bundle.wifi
        lines += [
            "",
            "[wifi]",
            f"ssid = {_toml_string(w.ssid)}",
            f"password = {_toml_string(w.password)}",
            f"country = {_toml_string(w.country)}",
        ]
    for kind, settings in bundle.hardware.items():
        lines += ["", f"[hardware.{kind}]"]
        lines += [f"{key} = {toml_literal(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
