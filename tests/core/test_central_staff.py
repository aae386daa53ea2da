"""The ``cashiers`` list and ``passkeys`` table of a configuration document: each parse
error names its entry, an effective document needs an active supervisor, the secrets it
uses, and the merge of cashiers by id across fleet < group < terminal."""

from __future__ import annotations

import pytest

from terminal.core import signed_config as sc
from terminal.core.central_staff import (
    StaffEntry,
    check_staff,
    parse_cashiers,
    parse_passkeys,
    secret_names,
)

SARI = {"id": 1, "name": "Sari", "role": "cashier"}
BUDI = {"id": 2, "name": "Budi", "role": "supervisor"}
WULAN = {"id": 7, "name": "Wulan"}


def error_of(document, parse=parse_cashiers) -> str:
    with pytest.raises(ValueError) as caught:
        parse(document)
    return str(caught.value)


def test_cashiers_parse_with_their_defaults():
    assert parse_cashiers({}) is None
    assert parse_cashiers({"cashiers": []}) == []
    parsed = parse_cashiers({"cashiers": [SARI, BUDI, {**WULAN, "name": "  Wulan "}]})
    assert parsed == [
        StaffEntry(1, "Sari", "cashier"),
        StaffEntry(2, "Budi", "supervisor"),
        StaffEntry(7, "Wulan", "cashier", True),
    ]
    assert parse_cashiers({"cashiers": [{**SARI, "active": False}]})[0].active is False


@pytest.mark.parametrize(
    ("entries", "named", "says"),
    [
        ([SARI, {**WULAN, "id": 0}], "cashiers entry 2", "id"),
        ([{**WULAN, "id": 1_000_000}], "cashiers entry 1", "id"),
        ([{**WULAN, "id": "7"}], "cashiers entry 1", "id"),
        ([{**WULAN, "id": True}], "cashiers entry 1", "id"),
        ([{"name": "Nobody"}], "cashiers entry 1", "id"),
        ([SARI, BUDI, {**SARI, "name": "Sari again"}], "cashier 1", "twice"),
        ([SARI, {**WULAN, "role": "manager"}], "cashier 7", "role"),
        ([SARI, {**WULAN, "pin": "482913"}], "cashiers entry 2", "unknown pin"),
        ([{**WULAN, "active": "no"}], "cashier 7", "active"),
        ([{**WULAN, "active": 0}], "cashier 7", "active"),
        ([{**WULAN, "name": " "}], "cashier 7", "name"),
        ([{**WULAN, "name": "x" * 41}], "cashier 7", "name"),
        (["Wulan"], "cashiers entry 1", "table"),
    ],
)
def test_each_cashier_error_names_the_entry(entries, named, says):
    message = error_of({"cashiers": entries})
    assert message.startswith(named + ":"), message
    assert says in message, message


def test_an_unknown_field_never_echoes_its_value():
    message = error_of({"cashiers": [{**WULAN, "pin": "482913"}]})
    assert "482913" not in message


def test_cashiers_is_a_list():
    assert "expected a list" in error_of({"cashiers": {"id": 7}})


def test_passkeys_parse_and_errors_name_the_category():
    assert parse_passkeys({}) is None
    assert parse_passkeys({"passkeys": {"discounts": True, "customers": False}}) == {
        "discounts": True,
        "customers": False,
    }
    message = error_of({"passkeys": {"discounts": True, "everything": True}}, parse_passkeys)
    assert message.startswith("passkeys.everything:") and "not a category" in message
    message = error_of({"passkeys": {"discounts": "yes"}}, parse_passkeys)
    assert message.startswith("passkeys.discounts:")
    assert "expected a table" in error_of({"passkeys": ["discounts"]}, parse_passkeys)


def test_check_staff_checks_both_sections():
    check_staff({"cashiers": [SARI], "passkeys": {"discounts": True}})
    with pytest.raises(ValueError, match=r"passkeys\.nothing"):
        check_staff({"cashiers": [SARI, BUDI], "passkeys": {"nothing": True}})
    with pytest.raises(ValueError, match="cashier 7"):
        check_staff({"cashiers": [SARI, BUDI, {**WULAN, "role": "boss"}]})


def test_an_effective_document_needs_an_active_supervisor():
    # one scope's document may add cashiers alone
    check_staff({"cashiers": [SARI]})
    with pytest.raises(ValueError, match="active supervisor"):
        check_staff({"cashiers": [SARI]}, effective=True)
    with pytest.raises(ValueError, match="active supervisor"):
        check_staff({"cashiers": [SARI, {**BUDI, "active": False}]}, effective=True)
    with pytest.raises(ValueError, match="active supervisor"):
        check_staff({"cashiers": []}, effective=True)
    check_staff({"cashiers": [SARI, BUDI]}, effective=True)
    check_staff({"store": {"name": "Toko"}}, effective=True)  # no cashiers managed: fine


def test_secret_names_are_the_active_cashiers_pins_and_the_named_passkeys():
    document = {
        "cashiers": [SARI, BUDI, {**WULAN, "active": False}],
        "passkeys": {"discounts": True, "customers": False},
    }
    assert secret_names(document) == [
        "cashier:1",
        "cashier:2",
        "passkey:discounts",
        "passkey:customers",
    ]
    assert secret_names({"store": {"name": "Toko"}}) == []
    assert secret_names({"cashiers": [{**SARI, "active": False}]}) == []


def test_cashiers_merge_by_id_fleet_then_group_then_terminal():
    fleet = {"store": {"name": "Toko"}, "cashiers": [SARI, BUDI]}
    group = {"cashiers": [WULAN, {**SARI, "name": "Sari W."}]}
    terminal = {"cashiers": [{**WULAN, "active": False}, {"id": 9, "name": "Dewi"}]}
    effective = sc.effective_document(fleet, group, terminal)
    by_id = {c.id: c for c in parse_cashiers(effective)}
    assert sorted(by_id) == [1, 2, 7, 9]
    assert by_id[1].name == "Sari W."  # the group's entry replaces the fleet's
    assert by_id[2] == StaffEntry(2, "Budi", "supervisor")  # kept from the fleet
    assert by_id[7].active is False  # the terminal's scope removes the group's cashier
    assert by_id[9].active is True
    assert secret_names(effective) == ["cashier:1", "cashier:2", "cashier:9"]
    check_staff(effective, effective=True)
    # the fleet's document is left as it was
    assert fleet["cashiers"] == [SARI, BUDI]


def test_a_terminal_removing_the_only_supervisor_is_refused_as_effective():
    fleet = {"cashiers": [SARI, BUDI]}
    terminal = {"cashiers": [{**BUDI, "active": False}]}
    effective = sc.effective_document(fleet, None, terminal)
    with pytest.raises(ValueError, match="active supervisor"):
        check_staff(effective, effective=True)


def test_cashiers_are_checked_as_a_section_list():
    sc.check_sections({"cashiers": [SARI], "passkeys": {"discounts": True}})
    with pytest.raises(ValueError, match="cashiers"):
        sc.check_sections({"cashiers": {"id": 1}})
    with pytest.raises(ValueError, match="passkeys"):
        sc.check_sections({"passkeys": ["discounts"]})
    with pytest.raises(ValueError, match="no id"):
        sc.effective_document({"cashiers": [SARI]}, {"cashiers": [{"name": "No id"}]})
    with pytest.raises(ValueError, match="no id"):
        sc.effective_document({"cashiers": [SARI]}, {"cashiers": [{"id": True, "name": "x"}]})
