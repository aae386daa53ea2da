"""Store files over the configuration file (``--store``): the demo stores load, each of
their sections replaces the main file's, and every mistake names the file it is in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli import main
from terminal.config import load_settings
from terminal.core.errors import ConfigError
from tests.conftest import CONFIG, ROOT

STORES = ROOT / "config" / "stores"


def test_the_mongolian_store_replaces_the_shop_and_keeps_the_terminal():
    main_file = load_settings(CONFIG)
    settings = load_settings(CONFIG, STORES / "mn.toml")
    store = settings.store
    assert (store.currency.code, store.locale, store.timezone.key) == (
        "MNT",
        "mn",
        "Asia/Ulaanbaatar",
    )
    assert store.prices_include_tax and store.cash_rounding == 10
    assert store.languages == ("mn", "en")
    # its tax classes, none of the Indonesian ones left over; the rate codes e-barimt uses
    assert set(settings.tax_classes) == {"VAT", "VAT_CITY", "FREE"}
    assert [(t.code, str(t.rate)) for t in settings.tax_classes["VAT_CITY"].taxes] == [
        ("VAT", "10"),
        ("CITY", "2"),
    ]
    assert [t.code for t in settings.tax_classes["VAT"].taxes] == ["VAT"]
    assert settings.tax_classes["VAT"].taxes[0].name == "НӨАТ"
    assert settings.tax_classes["FREE"].taxes == ()
    assert settings.data_dir == Path("var/mn")
    assert settings.security.key_dir == Path("var/mn/keys")  # its own key store too
    # the terminal's own sections stay the main file's
    assert settings.terminal_id == main_file.terminal_id
    assert settings.hardware == main_file.hardware and settings.keys == main_file.keys
    # the shop document a new terminal keeps is the store's
    assert settings.shop_document["store"]["name"] == "Өглөө Маркет"


def test_the_chinese_store():
    settings = load_settings(CONFIG, STORES / "cn.toml")
    store = settings.store
    assert (store.currency.code, store.currency.exponent, store.locale) == ("CNY", 2, "zh")
    assert store.cash_rounding == 1 and store.timezone.key == "Asia/Shanghai"
    rates = {code: [str(t.rate) for t in c.taxes] for code, c in settings.tax_classes.items()}
    assert rates == {"VAT13": ["13"], "VAT9": ["9"]}
    assert settings.data_dir == Path("var/cn")


def test_without_languages_only_the_shop_language_is_offered():
    assert load_settings(CONFIG).store.languages == ("id",)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "store.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = (STORES / "mn.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[store\nname = 1", r"store.toml: not valid TOML"),
        (MINIMAL + '\n[hardware.printer]\nbackend = "usb"\n', r"store.toml: \[hardware\]: belongs"),
        (MINIMAL.replace('data_dir = "var/mn"', ""), r"store.toml: terminal.data_dir: missing"),
        (MINIMAL.replace('data_dir = "var/mn"', 'data_dir = "var"'), "a directory of its own"),
        (MINIMAL.replace('data_dir = "var/mn"', 'data_dir = "x"\nid = "T02"'), "terminal.id: a"),
        (MINIMAL.replace('locale = "mn"', 'locale = "fr"'), r"store.toml: store.locale: 'fr'"),
        (
            MINIMAL.replace('languages = ["mn", "en"]', 'languages = ["mn", "de"]'),
            r"store.toml: store.languages: 'de' is not one of en, id, mn, zh",
        ),
        (MINIMAL.replace('rate = "2"', 'rate = "two"'), r"store.toml: taxes.VAT_CITY.rates"),
        (MINIMAL + "\n[nonsense]\nx = 1\n", r"store.toml: nonsense: unknown key"),
        ("stray = 1\n", r"store.toml: stray: expected a section"),
    ],
)
def test_a_store_file_mistake_names_the_store_file(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(CONFIG, write(tmp_path, text))


def test_a_missing_store_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.toml: no such store file"):
        load_settings(CONFIG, tmp_path / "nope.toml")


def test_a_mistake_in_the_main_file_names_the_main_file(tmp_path):
    broken = tmp_path / "pos.toml"
    printer = 'backend = "simulator"       # simulator | file'
    broken.write_text(CONFIG.read_text().replace(printer, "backend = 5 #"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{broken}: hardware.printer"):
        load_settings(broken, STORES / "mn.toml")


def test_the_cli_refuses_a_missing_store_file_with_exit_2(tmp_path, capsys):
    assert main(["--config", str(CONFIG), "--store", str(tmp_path / "x.toml"), "run"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "x.toml: no such store file" in err


def test_selfcheck_takes_the_store_file(tmp_path):
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{tmp_path}"'))
    store = write(tmp_path, MINIMAL.replace('"var/mn"', f'"{tmp_path / "mn"}"'))
    command = [sys.executable, "-m", "terminal", "--config", str(config), "--store", str(store)]
    done = subprocess.run(
        [*command, "selfcheck"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"ok     configuration loads: {config} + {store}" in done.stdout, done.stderr
