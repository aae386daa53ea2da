"""PosAPI 3.0's REST interface and its simulator, over real HTTP on loopback: what the
service checks, how it answers, and every way the terminal can fail to hear it."""

from __future__ import annotations

import socket
import threading

import pytest

from hal.device import DeviceConfigError
from hal.fiscal import configure_fiscal, make_fiscal
from hal.fiscal.posapi import PosApiClient, PosApiUnavailable
from hal.fiscal.simulator import PosApiSimulator
from terminal.core.ebarimt import FiscalRefused, parse_registration

ITEM = {
    "name": "Ус",
    "barCode": None,
    "measureUnit": "ш",
    "qty": 2,
    "unitPrice": 500,
    "totalAmount": 1000,
    "totalVAT": 91,
    "totalCityTax": 0,
}


def receipt(**changes) -> dict:
    body = {
        "branchNo": "001",
        "merchantTin": "12345678901",
        "posNo": "10012619",
        "type": "B2C_RECEIPT",
        "billIdSuffix": "000001",
        "totalAmount": 1000,
        "receipts": [
            {
                "taxType": "VAT_ABLE",
                "merchantTin": "12345678901",
                "totalAmount": 1000,
                "items": [ITEM],
            }
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def sim():
    with PosApiSimulator() as running:
        yield running


@pytest.fixture
def client(sim):
    return PosApiClient(sim.url, timeout=2)


def test_a_b2c_receipt_gets_a_33_digit_bill_a_date_a_lottery_and_qr_data(client):
    reg = parse_registration(client.register(receipt()))
    assert len(reg.bill_id) == 33 and reg.bill_id.isdigit()
    assert len(reg.date) == 19 and reg.lottery[:2].isalpha() and reg.qr_data.isdigit()
    assert "lottery" not in repr(reg) and reg.lottery not in repr(reg)  # never in a log line


def test_b2b_needs_the_buyers_tin_and_gets_no_lottery(client):
    with pytest.raises(FiscalRefused, match="customerTin"):
        parse_registration(client.register(receipt(type="B2B_RECEIPT")))
    reg = parse_registration(
        client.register(receipt(type="B2B_RECEIPT", customerTin="51234567890"))
    )
    assert reg.lottery == ""
    with pytest.raises(FiscalRefused, match="only for B2B"):
        parse_registration(client.register(receipt(customerTin="51234567890", billIdSuffix="2")))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "RECEIPT"}, "type"),
        ({"merchantTin": "99999999999"}, "not registered"),
        ({"totalAmount": 999}, "totalAmount"),
        ({"receipts": []}, "receipts: required"),
        ({"branchNo": None}, "branchNo: required"),
        (
            {
                "receipts": [
                    {
                        "taxType": "VAT",
                        "merchantTin": "12345678901",
                        "totalAmount": 1000,
                        "items": [ITEM],
                    }
                ]
            },
            "taxType",
        ),
        (
            {
                "receipts": [
                    {
                        "taxType": "VAT_ABLE",
                        "merchantTin": "12345678901",
                        "totalAmount": 1000,
                        "items": [{**ITEM, "qty": "two"}],
                    }
                ]
            },
            "number",
        ),
    ],
)
def test_a_malformed_receipt_is_refused_with_the_field_named(client, changes, reason):
    with pytest.raises(FiscalRefused, match=reason):
        parse_registration(client.register(receipt(**changes)))


def test_the_same_suffix_the_same_day_is_the_same_receipt(client, sim):
    one = client.register(receipt())
    assert client.register(receipt()) == one and len(sim.receipts) == 1
    assert client.register(receipt(billIdSuffix="000002"))["id"] != one["id"]


def test_delete_takes_a_receipt_back_once_and_names_what_it_cannot(client, sim):
    reg = parse_registration(client.register(receipt()))
    assert client.delete(reg.bill_id, reg.date) is None
    assert client.delete(reg.bill_id, reg.date) is None  # again (a lost answer): no harm
    assert sim.deleted == [reg.bill_id]
    assert client.delete("1" * 33, reg.date)["message"].startswith("no receipt")
    with pytest.raises(FiscalRefused, match="inactiveId"):
        parse_registration(client.register(receipt(inactiveId=reg.bill_id, billIdSuffix="9")))


def test_info_and_send_data(client, sim):
    info = client.info()
    assert info["merchants"][0]["tin"] == "12345678901" and info["leftLotteries"] == 5000
    assert client.send_data() == {} and sim.last_sent


def test_a_service_that_is_down_is_unavailable_and_nothing_was_sent(sim):
    client = PosApiClient(sim.url, timeout=2)
    sim.stop()
    with pytest.raises(PosApiUnavailable) as down:
        client.register(receipt())
    assert down.value.sent is False


def test_an_http_error_is_unavailable_the_outcome_unknown(client, sim):
    sim.http_error = 503
    with pytest.raises(PosApiUnavailable, match="HTTP 503") as err:
        client.register(receipt())
    assert err.value.sent is True


def serve_once(answer: bytes) -> int:
    """A TCP listener that answers one request with ``answer`` and closes."""
    server = socket.create_server(("127.0.0.1", 0))

    def run():
        con, _ = server.accept()
        con.recv(65536)
        con.sendall(answer)
        con.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!",
        b"\x00\xff garbage, not HTTP\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"status": ',  # cut short
    ],
)
def test_garbage_on_the_line_is_unavailable_never_a_receipt(answer):
    client = PosApiClient(f"http://127.0.0.1:{serve_once(answer)}", timeout=2)
    with pytest.raises(PosApiUnavailable):
        client.register(receipt())


def test_an_answer_that_is_json_but_no_receipt_is_refused():
    for answer in ([1, 2], {"status": "SUCCESS"}, {"status": "SUCCESS", "id": "x", "date": "d"}):
        with pytest.raises(FiscalRefused, match="not a receipt"):
            parse_registration(answer)
    with pytest.raises(FiscalRefused, match="PAYMENT"):
        parse_registration({"status": "PAYMENT"})


def test_the_spec_s_misspelt_qrdate_is_read_too():
    reg = parse_registration({"status": "SUCCESS", "id": "1" * 33, "date": "d", "qrDate": "42"})
    assert reg.qr_data == "42"


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ({"backend": "ebarimt", "pos_no": "1"}, "merchant_tin"),
        ({"backend": "ebarimt", "merchant_tin": "123", "pos_no": "1"}, "merchant_tin"),
        (
            {"backend": "ebarimt", "merchant_tin": "12345678901", "pos_no": "1", "url": "ftp://x"},
            "url",
        ),
        (
            {"backend": "ebarimt", "merchant_tin": "12345678901", "pos_no": "1", "branch_no": "1"},
            "branch_no",
        ),
        ({"backend": "none", "url": "http://x"}, "url"),
        ({"backend": "tse"}, "tse"),
    ],
)
def test_fiscal_settings_are_checked_with_the_key_named(table, error):
    with pytest.raises(DeviceConfigError, match=error):
        configure_fiscal(table)


def test_the_none_backend_registers_nothing(tmp_path):
    service = make_fiscal({}, tmp_path)
    assert service.enabled is False
    with pytest.raises(PosApiUnavailable):
        service.register(receipt())
