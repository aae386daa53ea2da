"""Airway bill numbers as CS types them from a courier's slip: each courier's form taken
(spaces around and lower case forgiven), another form refused with the courier and the
expected form named; a courier nobody ships with refused."""

from __future__ import annotations

import pytest

from terminal.core.couriers import COURIERS, check_awb, check_courier, postal_code
from terminal.core.errors import PosError

GOOD = {
    "jne": ["010190001491925", "TG7007260622", " cgk1234567890 "],
    "jnt": ["JP1234567890", "jx8009962760", "JNT123456789012"],
    "sicepat": ["002927168687", "005252506571"],
    "anteraja": ["10000123456789", "TSA1234567890"],
    "ninja": ["NLIDAP12345678", "NVIDNINJA0001"],
}
BAD = {
    "jne": ["12345", "JNE-1234", "A12345678901234567"],
    "jnt": ["1234567890", "JP12345", "XP1234567890"],
    "sicepat": ["00292716868", "0029271686870", "SC2927168687"],
    "anteraja": ["123456789", "TSA12"],
    "ninja": ["NLIDAP123", "12345678901"],
}


@pytest.mark.parametrize(("courier", "number"), [(c, n) for c, ns in GOOD.items() for n in ns])
def test_a_courier_s_own_number_is_taken_as_kept(courier, number):
    assert check_awb(courier, number) == number.strip().upper()


@pytest.mark.parametrize(("courier", "number"), [(c, n) for c, ns in BAD.items() for n in ns])
def test_a_number_of_another_form_is_refused_naming_courier_and_form(courier, number):
    with pytest.raises(PosError) as refused:
        check_awb(courier, number)
    known = COURIERS[courier]
    assert known.name in str(refused.value) and known.form in str(refused.value)
    assert refused.value.msgid == "{number} is not a {courier} airway bill: expected {form}"


def test_another_courier_s_number_is_refused():
    with pytest.raises(PosError, match="SiCepat"):
        check_awb("sicepat", "JP1234567890")


def test_a_courier_not_known_or_not_chosen_is_refused():
    with pytest.raises(PosError, match="dhl is not a courier"):
        check_awb("DHL", "1234567890")
    with pytest.raises(PosError, match="Choose the courier"):
        check_awb("", "JP1234567890")
    assert check_courier(" JNE ") == "jne" and check_courier("") == ""


def test_the_postal_code_is_the_address_s_last_five_digit_group():
    assert postal_code("Jl. Melati 5 No. 12345 RT 3, Jakarta Selatan 12160") == "12160"
    assert postal_code("Jl. Melati 5, Jakarta") == ""
    assert postal_code("Telp 081234567890, Jakarta") == ""  # a phone is not one
