"""PINs: the pepper, parameter upgrades, lockout with a growing period, and the journal."""

from __future__ import annotations

import logging

import pytest
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from terminal.core.errors import PosError
from terminal.core.pins import PinRuleError, check_cashier_pin, check_passkey
from terminal.store.cashiers import DEFAULT_PARAMS, FAST_TEST_PARAMS, PinHasher
from terminal.store.journal import read_entries
from terminal.store.models import CashierRow


def pin_hash(terminal, cashier_id: int) -> str:
    return CashierRow.select().where(CashierRow.id == cashier_id).get(terminal.pos.db).pin_hash


def test_a_stolen_database_cannot_check_a_pin(terminal):
    """Even decrypted, the hash needs the pepper from the key store: the right PIN fails."""
    phc = pin_hash(terminal, 1)
    assert phc.startswith("$argon2id$v=19$")
    with pytest.raises(InvalidKey):
        Argon2id.verify_phc_encoded(b"1357", phc)  # no pepper: even the right PIN fails
    Argon2id.verify_phc_encoded(b"1357", phc, secret=terminal.keys.key("pin_pepper"))


def test_weak_parameters_are_upgraded_at_the_next_right_pin(terminal):
    pos = terminal.pos
    assert "m=1024,t=1,p=1" in pin_hash(terminal, 1)  # made with test parameters
    pos.hasher = PinHasher(terminal.keys.key("pin_pepper"), DEFAULT_PARAMS)
    pos.sign_in("1", "1357")
    assert "m=65536,t=3,p=4" in pin_hash(terminal, 1)
    pos.sign_out()
    pos.sign_in("1", "1357")  # the new hash works


def refused(pos, operator, pin):
    with pytest.raises(PosError) as info:
        pos.sign_in(operator, pin)
    return str(info.value)


def test_lockout_grows_and_is_journaled(terminal, clock):
    pos = terminal.pos
    for _ in range(4):
        assert refused(pos, "1", "0000") == "Wrong cashier number or PIN"
    assert refused(pos, "1", "0000") == "Wrong cashier number or PIN"  # the 5th locks
    # locked: even the right PIN is refused, and says for how long
    assert refused(pos, "1", "1357") == "Too many wrong PINs: try again in 30 s"
    clock.advance(29.5)
    assert refused(pos, "1", "1357") == "Too many wrong PINs: try again in 1 s"
    clock.advance(1)
    # after the lock, one more wrong entry locks again, twice as long
    assert refused(pos, "1", "0000") == "Wrong cashier number or PIN"
    assert refused(pos, "1", "1357") == "Too many wrong PINs: try again in 60 s"
    # other cashiers are not locked
    assert pos.sign_in("2", "2580").name == "Budi"
    pos.sign_out()
    clock.advance(60)
    assert pos.sign_in("1", "1357").name == "Sari"  # a right PIN resets everything
    pos.sign_out()
    assert refused(pos, "1", "0000") == "Wrong cashier number or PIN"
    assert pos.sign_in("1", "1357")

    kinds = [(e["type"], e["payload"]) for e in read_entries(pos.db)][1:]  # after "start"
    failed = [p for t, p in kinds if t == "failed_pin"]
    locks = [p for t, p in kinds if t == "lockout"]
    assert [p.get("failures") for p in failed[:5]] == [1, 2, 3, 4, 5]
    assert all(p["subject"] == "cashier:1" for p in failed + locks)
    assert len(locks) == 2
    assert sum(1 for p in failed if p.get("locked")) == 3  # refused while locked
    assert pos.journal.verify().ok


def test_unknown_numbers_share_one_lock_and_leave_no_trace_of_what_was_typed(terminal, caplog):
    pos = terminal.pos
    caplog.set_level(logging.INFO)
    for typed in ("13579", "24680", "11223", "99887", "55667"):
        refused(pos, typed, "1357")
    assert refused(pos, "44556", "1357").startswith("Too many wrong PINs")
    # Only what the terminal wrote: hashes and signatures are random hex and may contain digits.
    journal = str([(e["type"], e["ts"], e["payload"]) for e in read_entries(pos.db)])
    for typed in ("13579", "24680", "11223", "99887", "55667", "44556", "1357"):
        assert typed not in journal and typed not in caplog.text
    assert "cashier:unknown" in journal


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "0000", "1111", "1234", "98765"])
def test_cashier_pin_rules(pin):
    with pytest.raises(PinRuleError):
        check_cashier_pin(pin)


@pytest.mark.parametrize("code", ["12345", "1234567", "000000", "123456", "654321", "777777"])
def test_passkey_rules(code):
    with pytest.raises(PinRuleError):
        check_passkey(code)


def test_good_codes_pass():
    assert check_cashier_pin("1357") == "1357"
    assert check_passkey("480215") == "480215"


def test_fast_test_parameters_are_not_the_default():
    assert FAST_TEST_PARAMS.weaker_than(DEFAULT_PARAMS)
