"""The configuration file: the shipped one loads; every kind of mistake is named."""

import subprocess
import sys

import pytest

from terminal.config import load_settings, parse_settings
from terminal.core.errors import ConfigError
from tests.conftest import CONFIG, ROOT, load_doc


def test_shipped_config_loads():
    settings = load_settings(CONFIG)
    assert settings.terminal_id == "T01"
    assert settings.store.currency.code == "IDR"
    assert [t.code for t in settings.tax_classes["PPN_PB1"].taxes] == ["PPN", "PB1"]
    assert settings.keys["pay_cash"] == ["f12", "numpadadd"]
    assert [f.prefix for f in settings.weighed_formats] == ["21", "22"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["terminal"].update(id="t 1"), "terminal.id: terminal id must be 1-8"),
        (lambda d: d["store"].update(currency="USD"), "unknown currency 'USD'"),
        (lambda d: d["store"].update(locale="fr"), "store.locale: 'fr' is not one of en, id"),
        (lambda d: d["store"].update(timezone="Mars/Olympus"), "store.timezone: unknown"),
        (lambda d: d["store"].update(cash_rounding=0), "store.cash_rounding: must be 1 or more"),
        (
            lambda d: d["store"].update(prices_include_tax="yes"),
            "store.prices_include_tax: expected bool, got 'yes'",
        ),
        (lambda d: d["store"].pop("name"), "store.name: missing"),
        (
            lambda d: d["taxes"]["PPN"]["rates"][0].update(rate="eleven"),
            r"taxes.PPN.rates\[0\].rate: not a number",
        ),
        (
            lambda d: d["taxes"]["PPN"]["rates"][0].update(rate="110"),
            "must be a percentage from 0 to 100",
        ),
        (lambda d: d["weighed_barcodes"][0].update(prefix="19"), "prefix must be 20-29"),
        (lambda d: d["weighed_barcodes"][0].update(kind="volume"), "must be 'price' or 'weight'"),
        (lambda d: d["keys"].update(pay_crypto=["f11"]), "keys.pay_crypto: unknown action"),
        (lambda d: d["approval"].update(mode="owner"), "approval.mode: must be"),
        (lambda d: d["approval"].update(demo_categories=["refunds"]), "unknown 'refunds'"),
        (lambda d: d["fraud"].update(voids=3), "fraud.voids: unknown"),
        (lambda d: d["fraud"].update(late_voids=-1), "fraud.late_voids: expected a whole"),
        (lambda d: d["loyalty"].update(earn_per=0), "must be 1 or more"),
        (lambda d: d["store"].update(denominations=[100, "x"]), "store.denominations"),
        (lambda d: d["keys"].update(pay_cash=5), "keys.pay_cash: expected a key name"),
        (lambda d: d.update(taxes={}), "taxes: at least one tax class"),
        (
            lambda d: d["hardware"]["printer"].update(backend="bluetooth"),
            "hardware.printer.backend: unknown 'bluetooth'",
        ),
        (
            lambda d: d["hardware"]["printer"].update(backend="serial"),
            "hardware.printer.device: needed by the serial backend",
        ),
        (
            lambda d: d["hardware"]["printer"].update(profile="TM-NOPE"),
            "hardware.printer.profile: python-escpos has no printer profile 'TM-NOPE'",
        ),
        (
            lambda d: d["hardware"]["printer"].update(codepage="CP9999"),
            "hardware.printer.codepage: 'CP9999' cannot be encoded here",
        ),
        (
            lambda d: d["hardware"]["printer"].update(logo="/nonexistent.png"),
            "hardware.printer.logo: no such file",
        ),
        (lambda d: d["hardware"]["drawer"].update(pulse_ms=5000), "hardware.drawer.pulse_ms"),
        (
            lambda d: d["hardware"]["drawer"].update(pin_factory="pigpio"),
            "hardware.drawer.pin_factory",
        ),
        (
            lambda d: d["hardware"]["keypad"].update(backend="bluetooth"),
            "hardware.keypad.backend: unknown 'bluetooth'",
        ),
        (lambda d: d["security"].update(max_failures=0), "security.max_failures: must be 1"),
        # a typo never falls back to a default in silence: unknown keys are named
        (
            lambda d: d["security"].update(protecter="tpm2"),
            "security.protecter: unknown key; known: key_dir, protector",
        ),
        (lambda d: d.update(hardwear={}), "hardwear: unknown key"),
        (lambda d: d["store"].update(curency="IDR"), "store.curency: unknown key"),
        (lambda d: d["terminal"].update(ID="T02"), "terminal.ID: unknown key"),
        (lambda d: d["ui"].update(full_screen=True), "ui.full_screen: unknown key"),
        (
            lambda d: d["taxes"]["PPN"]["rates"][0].update(percent="11"),
            r"taxes.PPN.rates\[0\].percent: unknown key",
        ),
        (lambda d: d["weighed_barcodes"][0].update(digits=5), r"weighed_barcodes\[0\].digits"),
        (lambda d: d["loyalty"]["tiers"][0].update(min=1), r"loyalty.tiers\[0\].min: unknown"),
        (lambda d: d["hardware"].update(scale={}), "hardware.scale: unknown key"),
        # each device backend takes its own keys, typed
        (
            lambda d: d["hardware"]["drawer"].update(pin=17),
            "hardware.drawer.pin: unknown key for the simulator backend",
        ),
        (
            lambda d: d["hardware"]["printer"].update(backend="network", host=5),
            "hardware.printer.host: expected str, got int",
        ),
        (
            lambda d: d["hardware"]["card"].update(password=1234567),
            r"hardware.card.password: expected int <= 999999",
        ),
        (
            lambda d: (
                d["hardware"]["card"].update(
                    backend="zvt-serial", device="/dev/ttyUSB0", baudrate=4800, approve_after=None
                )
                or d["hardware"]["card"].pop("approve_after")
            ),
            "hardware.card.baudrate: invalid enum value 4800",
        ),
        (
            lambda d: d["hardware"]["keypad"].update(backend="matrix", rows=[5, "six"], cols=[1]),
            r"hardware.keypad.rows\[1\]: expected int, got str",
        ),
    ],
)
def test_mistakes_are_named(change, message):
    doc = load_doc()
    change(doc)
    with pytest.raises(ConfigError, match=message):
        parse_settings(doc)


def test_not_toml_and_missing_file(tmp_path):
    bad = tmp_path / "pos.toml"
    bad.write_text("[store\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.toml")


def test_cli_refuses_a_broken_config_with_exit_2(tmp_path):
    bad = tmp_path / "pos.toml"
    bad.write_text('[terminal]\nid = "T01"\n')
    result = subprocess.run(
        [sys.executable, "-m", "terminal", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "store: missing" in result.stderr


def test_a_key_mapped_to_two_actions_is_refused():
    from terminal.ui.keymap import KeyMap  # noqa: PLC0415 - keymap imports no Kivy, kept local

    with pytest.raises(ValueError, match="mapped to both"):
        KeyMap({"pay_cash": ["f12"], "search": ["f12"]})
    for typing_key in ("enter", "5", "numpad0", "backspace"):
        with pytest.raises(ValueError, match="types or confirms"):
            KeyMap({"pay_cash": [typing_key]})


def test_a_shops_own_key_wins_over_a_new_actions_default():
    """A shop that mapped Insert before Insert became the refund screen's no-receipt key
    keeps its Insert; the new action keeps its button and loses only that key."""
    from terminal.ui.keymap import KeyMap  # noqa: PLC0415 - keymap imports no Kivy, kept local

    doc = load_doc()
    doc["keys"] = {"customer": ["insert", "f2"]}
    settings = parse_settings(doc)
    assert settings.keys["customer"] == ["insert", "f2"]
    assert settings.keys["no_receipt"] == []
    assert KeyMap(settings.keys).action_for("insert") == "customer"
    doc["keys"] = {"customer": ["f12"], "pay_cash": ["f12"]}  # the shop's own clash: refused
    with pytest.raises(ValueError, match="mapped to both"):
        KeyMap(parse_settings(doc).keys)
