"""The fleet's cashiers and passkeys applied to a real terminal database (the demo's Sari
1 / 1357 and Budi 2 / 2580, supervisor): added, removed, PINs set from the hashes the
agent made, what is refused before anything is written, and that no PIN is ever named."""

from __future__ import annotations

import pytest

from terminal.core.errors import PosError
from terminal.store import passkeys
from terminal.store.cashiers import check_pin, list_cashiers
from terminal.store.central_staff import (
    apply_staff,
    check_staff_change,
    hash_secrets,
    staff_change,
)
from terminal.store.models import CashierRow, PasskeyRow

SARI = {"id": 1, "name": "Sari", "role": "cashier"}
BUDI = {"id": 2, "name": "Budi", "role": "supervisor"}
WULAN = {"id": 7, "name": "Wulan", "role": "cashier"}
WULAN_PIN = "482913"


def apply(pos, document, opened=None, *, passkey_mode=False) -> dict:
    """As the agent and the app do it: opened values hashed, checked, written."""
    change = staff_change(document, hash_secrets(opened or {}, pos.hasher))
    assert change is not None
    check_staff_change(pos.db, change, passkey_mode=passkey_mode)
    with pos.db.atomic():
        return apply_staff(pos.db, change)


def refusal(pos, document, opened=None, *, passkey_mode=False) -> str:
    change = staff_change(document, hash_secrets(opened or {}, pos.hasher))
    with pytest.raises(ValueError) as caught:
        check_staff_change(pos.db, change, passkey_mode=passkey_mode)
    return str(caught.value)


def rows(pos) -> dict[int, tuple]:
    return {
        r.id: (r.name, r.role, r.active, bool(r.pin_hash)) for r in CashierRow.select().bind(pos.db)
    }


def test_a_document_without_staff_sections_changes_nothing(terminal):
    assert staff_change({"store": {"name": "Toko"}}, {}) is None


def test_a_cashier_added_with_a_pin_and_one_removed(terminal):
    pos = terminal.pos
    summary = apply(pos, {"cashiers": [BUDI, WULAN]}, {"cashier:7": WULAN_PIN})
    assert summary == {"cashiers_added": [7], "cashiers_removed": [1], "pins_set": [7]}
    assert check_pin(pos.db, pos.hasher, 7, WULAN_PIN).name == "Wulan"
    assert check_pin(pos.db, pos.hasher, 1, "1357") is None  # Sari removed
    assert check_pin(pos.db, pos.hasher, 2, "2580").name == "Budi"  # Budi's PIN kept
    assert [c.id for c in list_cashiers(pos.db)] == [2, 7]
    assert rows(pos)[1] == ("Sari", "cashier", False, False)  # kept, inactive, no PIN
    pos.sign_in("7", WULAN_PIN)
    pos.sign_out()
    with pytest.raises(PosError):
        pos.sign_in("1", "1357")


def test_active_false_removes_and_a_renamed_cashier_keeps_their_pin(terminal):
    pos = terminal.pos
    summary = apply(
        pos, {"cashiers": [{**SARI, "active": False}, {**BUDI, "name": "Budi Santoso"}]}
    )
    assert summary["cashiers_removed"] == [1] and summary["pins_set"] == []
    assert check_pin(pos.db, pos.hasher, 1, "1357") is None
    assert check_pin(pos.db, pos.hasher, 2, "2580").name == "Budi Santoso"


def test_a_new_cashier_without_a_pin_waits_until_a_later_change_brings_one(terminal):
    pos = terminal.pos
    summary = apply(pos, {"cashiers": [SARI, BUDI, WULAN]})
    assert summary == {"cashiers_added": [7], "cashiers_removed": [], "pins_set": []}
    assert rows(pos)[7] == ("Wulan", "cashier", False, False)
    assert 7 not in [c.id for c in list_cashiers(pos.db)]
    for pin in ("", WULAN_PIN, "0000"):
        assert check_pin(pos.db, pos.hasher, 7, pin) is None
    # the same document again, still without her PIN: still waiting
    apply(pos, {"cashiers": [SARI, BUDI, WULAN]})
    assert check_pin(pos.db, pos.hasher, 7, WULAN_PIN) is None
    # the PIN comes with a later change
    summary = apply(pos, {"cashiers": [SARI, BUDI, WULAN]}, {"cashier:7": WULAN_PIN})
    assert summary["pins_set"] == [7] and summary["cashiers_added"] == []
    assert check_pin(pos.db, pos.hasher, 7, WULAN_PIN).name == "Wulan"


def test_a_pin_set_centrally_replaces_the_terminals(terminal):
    pos = terminal.pos
    apply(pos, {"cashiers": [SARI, BUDI]}, {"cashier:1": "9753"})
    assert check_pin(pos.db, pos.hasher, 1, "1357") is None
    assert check_pin(pos.db, pos.hasher, 1, "9753").name == "Sari"


def test_a_removed_cashiers_pin_is_not_set(terminal):
    pos = terminal.pos
    summary = apply(pos, {"cashiers": [{**SARI, "active": False}, BUDI]}, {"cashier:1": "9753"})
    assert summary["pins_set"] == []
    assert check_pin(pos.db, pos.hasher, 1, "9753") is None


def test_no_supervisor_able_to_sign_in_is_refused_and_nothing_written(terminal):
    pos = terminal.pos
    before = rows(pos)
    message = refusal(pos, {"cashiers": [SARI, WULAN]}, {"cashier:7": WULAN_PIN})
    assert "no supervisor" in message
    refusal(pos, {"cashiers": [SARI, {**BUDI, "active": False}]})
    # a new supervisor whose PIN is not sent could not sign in either
    boss = {"id": 9, "name": "Dewi", "role": "supervisor"}
    assert "no supervisor" in refusal(pos, {"cashiers": [SARI, boss]})
    assert rows(pos) == before
    # ... with their PIN they can
    apply(pos, {"cashiers": [SARI, boss]}, {"cashier:9": "864209"})
    assert check_pin(pos.db, pos.hasher, 9, "864209").role == "supervisor"


def test_in_passkey_mode_a_category_on_needs_a_code(terminal):
    pos = terminal.pos
    PasskeyRow.replace(category="customers", enabled=False, code_hash=None).execute(pos.db)
    message = refusal(pos, {"passkeys": {"customers": True}}, passkey_mode=True)
    assert message.startswith("passkeys.customers:") and "without a code" in message
    # in supervisor mode no code is needed; off needs none either
    check_staff_change(
        pos.db, staff_change({"passkeys": {"customers": True}}, {}), passkey_mode=False
    )
    apply(pos, {"passkeys": {"customers": False}}, passkey_mode=True)
    # a category that has its code already may be switched on alone
    apply(pos, {"passkeys": {"discounts": True}}, passkey_mode=True)
    # with its code in the same change
    summary = apply(
        pos, {"passkeys": {"customers": True}}, {"passkey:customers": "503827"}, passkey_mode=True
    )
    assert summary == {"passkeys": {"customers": True}, "passkey_codes_set": ["customers"]}


def test_passkey_codes_set_through_hashes_work_and_others_keep_theirs(terminal):
    pos = terminal.pos
    summary = apply(
        pos,
        {"passkeys": {"discounts": True, "customers": False}},
        {"passkey:discounts": "503827"},
    )
    assert summary == {
        "passkeys": {"discounts": True, "customers": False},
        "passkey_codes_set": ["discounts"],
    }
    assert passkeys.check_code(pos.db, pos.hasher, "discounts", "503827")
    assert not passkeys.check_code(pos.db, pos.hasher, "discounts", "161803")  # the demo's
    assert "discounts" in passkeys.enabled_categories(pos.db)
    assert "customers" not in passkeys.enabled_categories(pos.db)
    # a category switched off keeps its code; one not named keeps its state
    assert passkeys.check_code(pos.db, pos.hasher, "customers", "141421")
    assert passkeys.check_code(pos.db, pos.hasher, "paid_orders", "271828")
    assert "paid_orders" in passkeys.enabled_categories(pos.db)


def test_hash_secrets_refuses_a_pin_breaking_the_rules_without_the_pin(terminal):
    pos = terminal.pos
    for name, value in (
        ("cashier:7", "1234"),
        ("cashier:7", "777777"),
        ("cashier:7", "12a4"),
        ("cashier:7", "123456789"),
        ("passkey:discounts", "4829"),  # a passkey is exactly 6 digits
        ("passkey:discounts", "654321"),
    ):
        with pytest.raises(ValueError) as caught:
            hash_secrets({"cashier:2": "864209", name: value}, pos.hasher)
        assert name in str(caught.value) and value not in str(caught.value)
    hashes = hash_secrets({"cashier:7": WULAN_PIN, "passkey:discounts": "503827"}, pos.hasher)
    assert sorted(hashes) == ["cashier:7", "passkey:discounts"]
    assert all(h.startswith("$argon2id$") and WULAN_PIN not in h for h in hashes.values())
    assert pos.hasher.matches(WULAN_PIN, hashes["cashier:7"])


def test_a_cashier_removed_earlier_is_not_removed_again_at_each_apply(terminal):
    pos = terminal.pos
    assert apply(pos, {"cashiers": [BUDI]})["cashiers_removed"] == [1]
    assert apply(pos, {"cashiers": [BUDI]})["cashiers_removed"] == []
    assert apply(pos, {"cashiers": [{**SARI, "active": False}, BUDI]})["cashiers_removed"] == []


def test_a_cashier_named_inactive_only_is_not_added(terminal):
    pos = terminal.pos
    summary = apply(pos, {"cashiers": [SARI, BUDI, {**WULAN, "active": False}]})
    assert summary == {"cashiers_added": [], "cashiers_removed": [], "pins_set": []}
    assert check_pin(pos.db, pos.hasher, 7, WULAN_PIN) is None


def test_a_cashier_removed_then_named_again_needs_a_new_pin(terminal):
    pos = terminal.pos
    apply(pos, {"cashiers": [BUDI]})  # Sari leaves
    summary = apply(pos, {"cashiers": [SARI, BUDI]})  # and is hired again
    assert summary["cashiers_added"] == [] and summary["pins_set"] == []
    assert check_pin(pos.db, pos.hasher, 1, "1357") is None  # her old PIN is gone
    apply(pos, {"cashiers": [SARI, BUDI]}, {"cashier:1": "9753"})
    assert check_pin(pos.db, pos.hasher, 1, "9753").name == "Sari"
