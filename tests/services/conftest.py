"""Fixtures of the service tests."""

from __future__ import annotations

import dataclasses

import pytest

from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import with_open_shift


@pytest.fixture
def card_shop(settings, clock):
    """Cashier 1 signed in, the shift open, the card simulator answering at once."""
    hardware = settings.hardware.replace("card", approve_after=0)
    fast = dataclasses.replace(settings, hardware=hardware)
    built = with_open_shift(build_terminal(fast, clock=clock, pin_params=FAST_TEST_PARAMS))
    built.pos.sign_in("1", "1357")
    return built
