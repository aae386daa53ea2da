"""Messages captured from real terminals (via ecrterm's and Portalum.Zvt's test suites),
parsed by our client."""

from hal.card.zvt.apdu import Apdu
from hal.card.zvt.client import Outcome, ZvtClient

# Status information of an approved 20.40 EUR Maestro payment (Portalum.Zvt test data)
APPROVED = (
    bytes.fromhex(
        "04 0F 77 27 00 04 00 00 00 00 20 40 0B 00 04 70 0C 22 39 53 0D 10 06 0E 25 12"
        " 17 00 01 19 70 22 F0 F8 EE EE EE EE EE EE 47 71 29 28 00 48 69"
        " 2A 31 30 30 34 36 31 37 36 33 20 20 20 20 20 20 3B 36 31 31 38 30 34 00 00"
        " 3C F0 F1 F4"
    )
    + b"GEN.NR.:611804"
    + bytes.fromhex("49 09 78 87 04 70 88 00 04 70 8A 2E 8B F1 F7")
    + b"Debit Mastercard"
    + b"\x00"
)
DECLINED = (
    bytes.fromhex("04 0F 25 27 05 29 29 00 02 74 3C F0 F0 F9")
    + b"Abgelehnt"
    + (bytes.fromhex("8A 06 06 0D 24 0B 07 09") + b"Abgelehnt")
)


def take(raw: bytes) -> Outcome:
    outcome = Outcome()
    ZvtClient._take(ZvtClient.__new__(ZvtClient), Apdu.parse(raw), outcome)
    return outcome


def test_approved_status_information():
    o = take(APPROVED)
    assert (o.result_code, o.amount, o.trace_number, o.receipt_number) == (0, 2040, 470, 470)
    assert o.terminal_id == 28004869  # BCD, not 0x28004869
    assert o.masked_pan == "************4771"
    assert o.auth_code == "611804"
    assert o.card_type == 0x2E  # Maestro


def test_declined_status_information_then_abort():
    o = take(DECLINED)
    assert o.result_code == 5 and o.terminal_id == 29000274
    ZvtClient._take(ZvtClient.__new__(ZvtClient), Apdu.parse(bytes.fromhex("06 1E 01 05")), o)
    assert not o.approved and o.message == "declined by the bank"


def test_status_enquiry_completion_of_a_real_terminal():
    o = take(bytes.fromhex("06 0F 0B F0 F0 F7") + b"2.14.15" + b"\x00")
    assert o.completed and o.software == "2.14.15" and o.terminal_status == 0
