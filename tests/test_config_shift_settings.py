"""The shift's settings in the configuration: the reasons for cash in and out, each
kind its own, and who closes the day (issue 12)."""

import pytest

from terminal.config import DEFAULT_CASH_REASONS, cash_reason_label, parse_settings
from terminal.core.errors import ConfigError
from terminal.i18n import translator
from tests.conftest import load_doc


def test_the_shipped_file_gives_each_move_its_own_reasons_and_the_z_to_a_supervisor():
    settings = parse_settings(load_doc())
    assert settings.cash_reasons == DEFAULT_CASH_REASONS
    assert "bank_deposit" not in settings.cash_reasons["cash_in"]
    assert "float_top_up" not in settings.cash_reasons["cash_out"]
    assert settings.approval.close_day == "supervisor"
    assert settings.shop.cash_reasons == DEFAULT_CASH_REASONS  # a shop setting (the fleet's)


def test_without_the_sections_the_defaults_hold():
    doc = load_doc()
    doc.pop("cash_reasons")
    doc["approval"].pop("close_day")
    settings = parse_settings(doc)
    assert settings.cash_reasons == DEFAULT_CASH_REASONS
    assert settings.approval.close_day == "supervisor"


def test_a_shop_lists_its_own_reasons():
    doc = load_doc()
    doc["cash_reasons"] = {"cash_out": ["bank_deposit", "Parkir"]}
    doc["approval"]["close_day"] = "cashier"
    settings = parse_settings(doc)
    assert settings.cash_reasons["cash_out"] == ("bank_deposit", "Parkir")
    assert settings.cash_reasons["cash_in"] == DEFAULT_CASH_REASONS["cash_in"]
    assert settings.approval.close_day == "cashier"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["cash_reasons"].update(cash_in=[]), "cash_reasons.cash_in: at least one"),
        (
            lambda d: d["cash_reasons"].update(cash_out=["a" * 41]),
            "cash_reasons.cash_out: each reason is a text of 1 to 40 characters",
        ),
        (lambda d: d["cash_reasons"].update(cash_out=[3]), "each reason is a text"),
        (lambda d: d["cash_reasons"].update(cash_out=["x", "x"]), "a reason is listed twice"),
        (lambda d: d["cash_reasons"].update(cash_in=["tab\there"]), "cannot be shown"),
        (lambda d: d["cash_reasons"].update(tips=["x"]), "cash_reasons.tips: unknown key"),
        (lambda d: d["cash_reasons"].update(cash_in="float_top_up"), "expected list"),
        (
            lambda d: d["approval"].update(close_day="anyone"),
            "approval.close_day: must be one of supervisor, cashier",
        ),
    ],
)
def test_mistakes_are_named(change, message):
    doc = load_doc()
    change(doc)
    with pytest.raises(ConfigError, match=message):
        parse_settings(doc)


def test_built_in_reasons_are_translated_and_a_shops_own_shown_as_written():
    english = translator("en").gettext
    assert cash_reason_label("to_safe", english) == "Cash to the safe"
    assert cash_reason_label("Parkir", english) == "Parkir"
    assert cash_reason_label("bank_deposit", translator("id").gettext) == "Setor ke bank"
