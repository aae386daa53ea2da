"""What the fleet sets, nobody changes at the terminal: once the configuration in force
names the cashiers, `pos-terminal cashier add|set-pin` refuse; once it sets a passkey
category, a supervisor cannot switch it or change its code here (seed 000: the owner
sets the passkeys)."""

from __future__ import annotations

import copy

import pytest

from terminal import admin
from terminal.core.approval import DISCOUNTS, UNPAID_ORDERS
from terminal.core.errors import PosError
from terminal.store.central_staff import staff_change

STAFF = [
    {"id": 1, "name": "Sari", "role": "cashier"},
    {"id": 2, "name": "Budi", "role": "supervisor"},
]


def apply(pos, settings, **sections):
    document = copy.deepcopy(settings.shop_document) | sections
    pos.apply_shop_config(document, "fleet", staff=staff_change(document, {}))


def test_a_passkey_category_the_fleet_sets_cannot_be_changed_here(terminal, settings, clock):
    pos = terminal.pos
    supervisor = pos.sign_in("2", "2580")
    pos.approvals.configure(supervisor, DISCOUNTS, enabled=False, code=None, at=clock())
    apply(pos, settings, passkeys={UNPAID_ORDERS: True})
    with pytest.raises(PosError, match="The fleet sets the passkey for Unpaid orders"):
        pos.approvals.configure(supervisor, UNPAID_ORDERS, enabled=False, code=None, at=clock())
    # a category the fleet does not set stays the shop's own
    pos.approvals.configure(supervisor, DISCOUNTS, enabled=True, code=None, at=clock())


def test_cashier_commands_refuse_once_the_fleet_names_the_cashiers(
    terminal, settings, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin.readline", lambda: "97531\n")
    assert admin.cashier_add(settings, 7, "Dewi", "cashier") == 0  # the shop's own, still
    apply(terminal.pos, settings, cashiers=STAFF)
    assert admin.cashier_add(settings, 8, "Eka", "cashier") == 1
    assert admin.cashier_set_pin(settings, 1) == 1
    assert "set by the fleet" in capsys.readouterr().err
    with pytest.raises(PosError):  # Dewi is not in the fleet's list: she is out
        terminal.pos.sign_in("7", "97531")
    assert terminal.pos.sign_in("1", "1357").name == "Sari"
