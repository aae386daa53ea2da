"""Shared fixtures: a terminal built from the shipped config/pos.toml in a temp directory."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal.config import parse_settings
from terminal.core.clock import ManualClock
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "pos.toml"


def load_doc() -> dict:
    with CONFIG.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def settings(tmp_path):
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path / "var")
    return parse_settings(doc)


@pytest.fixture
def clock():
    # 10:00 in Jakarta
    return ManualClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))


@pytest.fixture
def terminal(settings, clock):
    """A terminal whose shift is open (float 0), nobody signed in."""
    built = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    with_open_shift(built)
    return built


@pytest.fixture
def closed_terminal(settings, clock):
    """A terminal as it starts in the morning: no shift open."""
    return build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)


def with_open_shift(built, opening_float: int = 0):
    pos = built.pos
    pos.sign_in("1", "1357")
    built.shifts.open(opening_float)
    pos.sign_out()
    return built


@pytest.fixture
def no_rounding(settings):
    store = dataclasses.replace(settings.store, cash_rounding=1)
    return dataclasses.replace(settings, store=store)


def open_reader(terminal):
    """A second, independent connection to the terminal's database, as a report would open
    it: sqlcipher3 with the raw key from the key store."""
    import sqlcipher3  # noqa: PLC0415 - only tests that read behind the app's back need it

    from terminal.store.db import sqlcipher_key  # noqa: PLC0415

    con = sqlcipher3.connect(str(terminal.pos.settings.database_path))
    con.execute(f'PRAGMA key="{sqlcipher_key(terminal.keys.key("database"))}"')
    return con


@pytest.fixture
def software_tpm(tmp_path):
    """Starts software TPMs (swtpm); each one started is another terminal's TPM module."""
    from tests.swtpm import SoftwareTpm  # noqa: PLC0415

    started = []

    def start(name: str = "tpm"):
        tpm = SoftwareTpm(tmp_path / f"swtpm-{name}").start()
        started.append(tpm)
        return tpm

    yield start
    for tpm in started:
        tpm.stop()
