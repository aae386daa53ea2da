"""e-barimt on a Mongolian terminal, against the PosAPI simulator over real HTTP: each
receipt type and tax type, the service down, slow or refusing, returns whole and in
part, reprints - and what the customer's receipt shows."""

from __future__ import annotations

import dataclasses
import json
import time
from decimal import Decimal as D

import pytest
from peewee import OperationalError

from hal.printer.preview import interpret
from terminal.core.approval import PAID_ORDERS
from terminal.core.errors import PosError
from terminal.fleet.events import device_message
from terminal.services.demo import weighed_barcode
from terminal.store import fiscal_receipts, outbox
from tests.fiscal.conftest import COLA, EGGS, VODKA, mongolian_settings, open_shop

PENDING_TEXT = (
    "e-barimt pending: the receipt is registered with the tax office as soon as its service "
    "answers. Ask for it with this receipt's number."
)
REPRINT_TEXT = (
    "The lottery number and the QR code are printed on the original receipt only. Find this "
    "receipt in the e-barimt app by its bill id."
)


def answers(posapi) -> list[dict]:
    return [r["answer"] for r in posapi.receipts.values()]


def journal(pos, kind: str) -> list[dict]:
    rows = pos.db.execute_sql("SELECT payload FROM journal WHERE type = ? ORDER BY seq", (kind,))
    return [json.loads(r[0]) for r in rows.fetchall()]


def paper(data: bytes) -> str:
    """A receipt as the customer reads it (wrapped lines joined again)."""
    return " ".join(line.strip() for line in interpret(data).lines)


def says(pos, data: bytes, msgid: str) -> bool:
    """Whether the receipt prints ``msgid`` in the shop's language (its first sentence)."""
    return pos.receipt_gettext(msgid).split(".")[0].split(":")[0] in paper(data)


def sell(pos, *codes: str, cash: int | None = None):
    for code in codes:
        pos.scan(code)
    return pos.pay_cash(cash if cash is not None else pos.cash_payable())


def test_a_sale_is_registered_with_one_sub_receipt_per_tax_type(pos, posapi):
    out = sell(pos, COLA, EGGS, VODKA, VODKA)
    assert len(posapi.receipts) == 1
    request = next(iter(posapi.receipts.values()))["request"]
    assert request["type"] == "B2C_RECEIPT" and request["customerTin"] is None
    assert request["billIdSuffix"] == f"{out.committed.number:06d}"
    assert request["merchantTin"] == "12345678901" and request["branchNo"] == "001"
    subs = {r["taxType"]: r for r in request["receipts"]}
    assert set(subs) == {"VAT_ABLE", "VAT_FREE"}
    # cola 3,500 (VAT 10 %): base 3,182, VAT 318; vodka 2 x 22,000 (VAT 10 % + city 2 %):
    # base 39,286, taxes 4,714: VAT 3,928.57 and city 785.71, the unit left over to the
    # larger fraction - VAT 3,928, city tax 786: the figures the receipt prints
    vat = subs["VAT_ABLE"]
    assert vat["totalAmount"] == 3500 + 44000
    assert (vat["totalVAT"], vat["totalCityTax"]) == (318 + 3928, 786)
    assert [i["name"] for i in vat["items"]] == ["Кока-Кола 1.25 л", "Архи 0.5 л", "Архи 0.5 л"]
    assert vat["items"][0]["classificationCode"] == "2441000"
    assert vat["items"][0]["barCode"] == COLA and vat["items"][0]["barCodeType"] == "GS1"
    assert sum(i["totalVAT"] for i in vat["items"]) == vat["totalVAT"]
    assert sum(i["totalCityTax"] for i in vat["items"]) == 786
    free = subs["VAT_FREE"]
    assert free["totalAmount"] == 5500 and free["totalVAT"] == 0
    assert free["items"][0]["taxProductCode"] == "305"
    assert request["totalAmount"] == 3500 + 5500 + 44000 == out.committed.sale.total
    assert request["totalVAT"] == vat["totalVAT"]
    assert request["payments"][0]["code"] == "CASH"


def test_the_receipt_prints_the_bill_its_date_the_lottery_and_the_qr(pos, posapi):
    out = sell(pos, COLA)
    answer = answers(posapi)[0]
    printed = out.receipt_bytes
    assert answer["id"].encode() in printed and answer["date"].encode() in printed
    assert answer["lottery"].encode() in printed
    assert answer["qrData"].encode() in printed  # the QR symbol's data (GS ( k)
    # what the print queue keeps: the bill, never the lottery or the QR
    kept = pos.db.execute_sql("SELECT data FROM print_job").fetchone()[0]
    assert answer["id"].encode() in bytes(kept)
    assert answer["lottery"].encode() not in bytes(kept)
    assert answer["qrData"].encode() not in bytes(kept)
    assert journal(pos, "fiscal")[0]["bill_id"] == answer["id"]


def test_a_company_gets_a_b2b_receipt_with_its_tin_and_no_lottery(pos, posapi):
    with pytest.raises(PosError, match="11 digits"):
        pos.set_buyer_tin("12345")
    pos.set_buyer_tin("5123456 7890")
    out = sell(pos, COLA)
    request = next(iter(posapi.receipts.values()))["request"]
    assert request["type"] == "B2B_RECEIPT" and request["customerTin"] == "51234567890"
    assert answers(posapi)[0]["lottery"] == ""
    assert b"51234567890" in out.receipt_bytes
    sell(pos, COLA)  # the next sale is a person's again
    assert [r["request"]["type"] for r in posapi.receipts.values()][-1] == "B2C_RECEIPT"


def test_posapi_down_the_sale_stands_and_is_registered_once_later(pos, posapi, shop):
    posapi.stop()
    out = sell(pos, COLA, EGGS)
    assert says(pos, out.receipt_bytes, PENDING_TEXT)
    waiting = pos.fiscal.pending()
    assert [r.label for r in waiting] == [out.committed.label]
    assert "unreachable" in waiting[0].error
    assert "fiscal-pending" in pos.health()
    assert journal(pos, "fiscal_pending")[0]["for"] == out.committed.label
    assert pos.fiscal.send_pending() == 0  # still down: nothing, and no second entry
    assert len(journal(pos, "fiscal_pending")) == 1
    posapi.start()
    printed_before = len(pos.printer.jobs)
    assert pos.fiscal.send_pending() == 1
    assert pos.fiscal.send_pending() == 0
    assert len(posapi.receipts) == 1 and pos.fiscal.pending() == []
    assert "fiscal-pending" not in pos.health()
    # a slip with the lottery and the QR, for the customer or the shop
    slip = pos.printer.jobs[printed_before][1]
    answer = answers(posapi)[0]
    assert answer["lottery"].encode() in slip and answer["qrData"].encode() in slip
    assert out.committed.label.encode() in slip


def test_an_answer_lost_on_the_way_back_never_makes_a_second_receipt(pos, posapi):
    posapi.delay = 1.5  # longer than the terminal's timeout (1 s): it hears nothing
    out = sell(pos, COLA)
    assert len(posapi.receipts) == 1  # ... but PosAPI made the receipt
    assert [r.label for r in pos.fiscal.pending()] == [out.committed.label]
    posapi.delay = 0
    assert pos.fiscal.send_pending() == 1
    assert len(posapi.receipts) == 1  # the same billIdSuffix: the same receipt
    bill = fiscal_receipts.by_label(pos.db, out.committed.label)
    assert bill.bill_id == next(iter(posapi.receipts))


def test_a_refusal_is_kept_with_its_reason_until_posapi_takes_it(pos, posapi):
    posapi.refuse = "PosAPI идэвхжээгүй байна"  # not activated yet
    out = sell(pos, COLA)
    assert pos.fiscal.pending()[0].error.startswith("refused: e-barimt refused the receipt")
    assert "идэвхжээгүй" in pos.fiscal.pending()[0].error
    assert journal(pos, "fiscal_pending")[0]["reason"] == "refused"
    posapi.refuse = None
    assert pos.fiscal.send_pending() == 1
    assert fiscal_receipts.by_label(pos.db, out.committed.label).state == "registered"


def approval(pos):
    return pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")


def test_a_whole_return_deletes_the_receipt(pos, posapi):
    out = sell(pos, COLA, EGGS)
    bill = answers(posapi)[0]
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(1, D(1), True), (2, D(1), True)], "defective", approval(pos))
    assert pos.fiscal.send_pending() == 1
    assert posapi.deleted == [bill["id"]]
    assert posapi.active() == []
    entry = journal(pos, "fiscal")[-1]
    assert (entry["kind"], entry["state"], entry["bill_id"]) == ("return", "deleted", bill["id"])


def test_partial_returns_replace_the_receipt_in_a_chain_then_a_last_one_deletes_it(pos, posapi):
    out = sell(pos, COLA, EGGS, VODKA)
    first = answers(posapi)[0]
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(3, D(1), True)], "defective", approval(pos))
    assert pos.fiscal.send_pending() == 1
    correction = posapi.receipts[posapi.active()[0]]
    request = correction["request"]
    assert request["inactiveId"] == first["id"]
    assert [i["name"] for r in request["receipts"] for i in r["items"]] == [
        "Кока-Кола 1.25 л",
        "Өндөг 10 ширхэг",
    ]
    assert request["totalAmount"] == 3500 + 5500
    assert correction["answer"]["lottery"] == ""  # the first receipt's lottery stands
    assert request["billIdSuffix"].startswith("9")
    # the rest back: the correction (the receipt that stands now) is deleted
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(1, D(1), True), (2, D(1), True)], "defective", approval(pos))
    assert pos.fiscal.send_pending() == 1
    assert posapi.deleted == [correction["answer"]["id"]] and posapi.active() == []


def test_a_return_waits_for_its_sale_to_be_registered(pos, posapi):
    posapi.stop()
    out = sell(pos, COLA, EGGS)
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval(pos))
    assert [r.kind for r in pos.fiscal.pending()] == ["sale", "return"]
    posapi.start()
    assert pos.fiscal.send_pending() == 2
    sale_bill, correction = list(posapi.receipts.values())
    assert correction["request"]["inactiveId"] == sale_bill["answer"]["id"]


def test_a_reprint_says_how_to_find_the_receipt_never_the_lottery(pos, posapi):
    out = sell(pos, COLA)
    answer = answers(posapi)[0]
    copy, error = pos.refunds.reprint(pos.refunds.find(out.committed.return_code).id)
    assert error is None and copy == 1
    reprinted = pos.printer.jobs[-1][1]
    assert answer["id"].encode() in reprinted
    assert answer["lottery"].encode() not in reprinted
    assert answer["qrData"].encode() not in reprinted
    assert says(pos, reprinted, REPRINT_TEXT)


def test_a_shop_without_fiscal_receipts_prints_no_e_barimt(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("8991002101111")
    out = pos.pay_cash(pos.cash_payable())
    assert b"e-barimt" not in out.receipt_bytes
    with pytest.raises(PosError):
        pos.set_buyer_tin("51234567890")


def test_the_terminal_starts_with_posapi_down_and_catches_up(tmp_path, clock):
    settings = mongolian_settings(tmp_path)
    built = open_shop(settings, clock)
    try:
        sim = built.pos.fiscal.service.simulator
        sim.stop()
        sell(built.pos, COLA)
        sim.start()
        built.pos.fiscal.start()  # the thread sends at once, then every retry_seconds
        deadline = time.monotonic() + 10
        while built.pos.fiscal.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert built.pos.fiscal.pending() == [] and len(sim.receipts) == 1
    finally:
        built.pos.fiscal.stop()
        built.pos.fiscal.service.close()


def test_the_fleet_hears_receipts_wait_and_that_they_stopped_waiting(pos, posapi):
    fleet = dataclasses.replace(pos.settings.fleet, enabled=True)
    pos.settings = dataclasses.replace(pos.settings, fleet=fleet)
    posapi.stop()
    sell(pos, COLA)
    pos.device_watch.check(force=True)
    posapi.start()
    pos.fiscal.send_pending()
    pos.device_watch.check(force=True)
    sent = [device_message(e) for e in outbox.device_events_after(pos.db, 0)]
    assert [(m.kind, m.device) for m in sent] == [
        ("fiscal_pending", "fiscal"),
        ("device_ok", "fiscal"),
    ]


def test_a_fault_after_the_commit_never_reaches_the_cashier_and_the_receipt_prints(
    pos, posapi, monkeypatch
):
    real = fiscal_receipts.registered

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(fiscal_receipts, "registered", locked)
    out = sell(pos, COLA)  # registered at PosAPI, not written down: no exception here
    assert out.print_error is None and says(pos, out.receipt_bytes, PENDING_TEXT)
    assert pos.fiscal.pending()[0].error.startswith("error: OperationalError")
    monkeypatch.setattr(fiscal_receipts, "registered", real)
    assert pos.fiscal.send_pending() == 1
    assert len(posapi.receipts) == 1  # the same request: the same receipt


def test_a_refused_return_holds_the_later_ones_of_its_sale_so_the_chain_stays_in_order(pos, posapi):
    out = sell(pos, COLA, EGGS, VODKA)
    posapi.refuse = "try later"
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval(pos))
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(3, D(1), True)], "defective", approval(pos))
    assert pos.fiscal.send_pending() == 0
    assert [r.attempts for r in pos.fiscal.pending()] == [1, 0]  # the second never went
    posapi.refuse = None
    assert pos.fiscal.send_pending() == 2
    standing = posapi.receipts[posapi.active()[0]]["request"]
    assert [i["name"] for r in standing["receipts"] for i in r["items"]] == ["Кока-Кола 1.25 л"]


def test_a_refused_delete_stays_waiting_with_the_reason(pos, posapi, monkeypatch):
    out = sell(pos, COLA)
    monkeypatch.setattr(
        pos.fiscal.service,
        "delete",
        lambda bill, date: {"status": "ERROR", "message": "confirmed by the citizen"},
    )
    sale = pos.refunds.find(out.committed.return_code)
    pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval(pos))
    assert pos.fiscal.send_pending() == 0
    waiting = pos.fiscal.pending()[0]
    assert waiting.kind == "return" and "confirmed by the citizen" in waiting.error
    assert posapi.active()  # the receipt still stands


def test_a_lost_answer_is_sent_again_the_same_day_only_then_by_a_supervisor(pos, posapi, clock):
    posapi.delay = 1.5
    out = sell(pos, COLA)
    posapi.delay = 0
    clock.advance(86400)  # the next day: PosAPI might make a second receipt
    assert pos.fiscal.send_pending() == 0
    assert pos.fiscal.pending()[0].unknown_since
    assert pos.fiscal.send_pending(force=True) == 1  # a supervisor looked, and sends it
    assert fiscal_receipts.by_label(pos.db, out.committed.label).state == "registered"


def test_voiding_every_line_forgets_the_company_buyer(pos, posapi):
    pos.set_buyer_tin("51234567890")
    pos.scan(COLA)
    pos.void_line(0, "mistake")
    assert pos.buyer_tin == ""
    sell(pos, COLA)
    assert next(iter(posapi.receipts.values()))["request"]["type"] == "B2C_RECEIPT"


def test_the_cash_reported_is_what_paid_for_the_goods_before_cash_rounding(pos, posapi):
    out = sell(pos, weighed_barcode("22", "10001", 1234))  # 1.234 kg at 18,000: 22,212
    assert out.committed.sale.payment.payable == 22210  # cash to 10 tögrög
    request = next(iter(posapi.receipts.values()))["request"]
    assert request["totalAmount"] == 22212
    assert request["payments"] == [{"code": "CASH", "status": "PAID", "paidAmount": 22212}]
