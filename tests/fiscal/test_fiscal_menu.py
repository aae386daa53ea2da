"""The sale screen's e-barimt lines (More menu), answered from a script: a company's TIN
for the sale's receipt, and the receipts waiting, with Send now."""

from __future__ import annotations

from terminal.ui.fiscal_menu import FiscalMenu, menu_entries
from tests.fiscal.conftest import COLA
from tests.ui.test_menu_flows import ScriptedAsker, Shown


def test_the_more_menu_offers_e_barimt_only_where_the_shop_has_it(pos, terminal):
    assert [key for key, _label in menu_entries(pos)] == ["buyer_tin", "fiscal_pending"]
    assert menu_entries(terminal.pos) == []


def test_a_company_tin_typed_wrong_is_said_and_the_right_one_taken(pos, posapi):
    ask = ScriptedAsker(pos, "123", "51234567890")
    FiscalMenu(pos, ask).buyer_tin()
    assert ask.asked[0].problems == ["A TIN has 11 digits (a company) or 12 to 14 (a person)"]
    assert ask.said == [("e-barimt for company TIN 51234567890", False)]
    pos.scan(COLA)
    pos.pay_cash(pos.cash_payable())
    assert next(iter(posapi.receipts.values()))["request"]["customerTin"] == "51234567890"


def test_the_receipts_waiting_are_listed_with_why_and_sent_on_request(pos, posapi):
    posapi.stop()
    pos.scan(COLA)
    sold = pos.pay_cash(pos.cash_payable()).committed
    assert dict(menu_entries(pos))["fiscal_pending"] == "e-barimt: 1 receipt waiting"
    posapi.start()
    ask = ScriptedAsker(pos, Shown.TAKE)
    FiscalMenu(pos, ask).pending()
    lines = ask.asked[0].flags["lines"]
    assert lines[0].startswith(f"{sold.label}: 1 tries, unreachable: PosAPI at")
    assert ask.said == [("e-barimt: 1 registered, 0 still waiting", False)]
    ask = ScriptedAsker(pos)
    FiscalMenu(pos, ask).pending()
    assert ask.said == [("Every e-barimt receipt is registered", False)]
