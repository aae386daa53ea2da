"""The Mongolian demo store (config/stores/mn.toml) on the PosAPI simulator."""

from __future__ import annotations

import dataclasses

import pytest

from hal.fiscal import configure_fiscal
from terminal.config import parse_settings
from terminal.config_overlay import overlay, read_toml
from terminal.services.bootstrap import build_terminal
from terminal.services.demo import gtin
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import CONFIG, ROOT, with_open_shift

MN_STORE = ROOT / "config" / "stores" / "mn.toml"
COLA = gtin("865000300302")  # Кока-Кола 1.25 л, 3,500 ₮: VAT
EGGS = gtin("865000700701")  # Өндөг 10 ширхэг, 5,500 ₮: VAT-free
VODKA = gtin("865000600601")  # Архи 0.5 л, 22,000 ₮: VAT + city tax


def mongolian_settings(tmp_path):
    doc = overlay(read_toml(CONFIG, "configuration"), read_toml(MN_STORE, "store"))
    doc["terminal"]["data_dir"] = str(tmp_path / "mn")
    settings = parse_settings(doc)
    hardware = settings.hardware.replace("card", approve_after=0)
    table = {"backend": "simulator", "tax_product_codes": {"FREE": "305"}, "timeout_seconds": 1.0}
    return dataclasses.replace(settings, hardware=hardware, fiscal=configure_fiscal(table))


def open_shop(settings, clock):
    built = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    with_open_shift(built)
    built.pos.sign_in("1", "1357")
    return built


@pytest.fixture
def shop(tmp_path, clock):
    """Cashier 1 signed in, the shift open; e-barimt on the simulator."""
    built = open_shop(mongolian_settings(tmp_path), clock)
    yield built
    built.pos.fiscal.stop()
    built.pos.fiscal.service.close()


@pytest.fixture
def pos(shop):
    return shop.pos


@pytest.fixture
def posapi(pos):
    return pos.fiscal.service.simulator
