"""Mongolia's e-barimt receipts (PosAPI 3.0): what the tax office is told of a sale, a
partial return and a full one, and what its answer means. No I/O: the terminal's
``hal.fiscal`` sends these documents, and the fleet can rebuild them from the journal.

Field names and rules are those of the PosAPI 3.0 OpenAPI description and the 2023 user
guide (docs/research/ebarimt-posapi-3.md has the sources and the open questions):

- one bundle per sale, with one sub-receipt per tax type (VAT_ABLE, VAT_FREE, VAT_ZERO):
  "if VAT-able, exempt and 0 % goods are bought together, a sub-receipt per tax type";
- amounts include every tax: total = base + VAT (on the base) + city tax (on the base).
  They are the sale's own figures: each tax class's VAT and city tax are the ones the
  receipt prints (``terminal.core.taxes``), shared out over its lines by amount, so the
  items add up to the sub-receipts and the sub-receipts to the bundle, to the unit;
- ``unitPrice`` is the line's price per unit after its discounts, all taxes in (the
  guide's text), so ``qty * unitPrice`` is ``totalAmount``;
- ``billIdSuffix`` (unique within the day) is the sale's own number: sending one sale
  again sends the same suffix, never a second receipt;
- a partial return is a new receipt for what the customer keeps, ``inactiveId`` naming
  the receipt it replaces (a chain: each correction replaces the last); a full return
  deletes the chain's last receipt (``DELETE /rest/receipt`` with its id and date);
- the answer's ``lottery`` and ``qrData`` may only be printed: :class:`Registration`
  carries them to the printer and nothing here or in its callers keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from terminal.core.barcodes import has_valid_check_digit, is_gtin_shaped
from terminal.core.errors import N_, PosError
from terminal.core.money import split_by_weight
from terminal.core.taxes import TaxClass, summarize

B2C, B2B = "B2C_RECEIPT", "B2B_RECEIPT"
VAT_ABLE, VAT_FREE, VAT_ZERO = "VAT_ABLE", "VAT_FREE", "VAT_ZERO"
TAX_TYPES = (VAT_ABLE, VAT_FREE, VAT_ZERO)
VAT_CODE, CITY_TAX_CODE = "VAT", "CITY"  # the rate codes of the shop's tax classes
TIN_DIGITS = range(11, 15)  # a company's TIN: 11 digits; a person's: 12 to 14


class FiscalRefused(PosError):
    """PosAPI answered and said no (``status`` ERROR or PAYMENT), or its answer was not
    one: retrying the same request later may work (a PosAPI not yet activated) or not
    (a bad TIN); the supervisor reads ``reason``."""


@dataclass(frozen=True)
class Merchant:
    """Who issues the receipts: from ``[hardware.fiscal]``."""

    tin: str  # 11 digits (a company) or 12-14 (a person)
    branch_no: str  # 3 digits, the merchant's own numbering of its shops
    pos_no: str  # the merchant's number for this till
    district_code: str = ""  # 4 digits: tax office and sub-office
    # tax class -> the legal exemption code the VAT_FREE / VAT_ZERO goods carry
    tax_product_codes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One sale line as the receipt's item: amounts in the currency's minor units."""

    name: str
    sku: str
    barcode: str  # "" when the product has none
    classification: str  # the 7-digit БҮНА code, "" when the shop has none for it
    quantity: Decimal
    amount: int  # what the customer pays for the line, every tax in
    tax_class: str
    by_weight: bool = False


@dataclass(frozen=True)
class Payment:
    kind: str  # cash | card (other tenders are not payments to the tax office)
    amount: int
    card_terminal_id: str = ""
    rrn: str = ""
    masked_pan: str = ""


@dataclass(frozen=True)
class Registration:
    """PosAPI's answer to a receipt. ``lottery`` and ``qr_data`` are for the printer
    only (the guide forbids keeping them in any other form)."""

    bill_id: str  # ДДТД, 33 digits
    date: str  # "yyyy-MM-dd HH:mm:ss", needed to delete the receipt
    lottery: str = field(default="", repr=False)
    qr_data: str = field(default="", repr=False)
    easy: bool = False


def tax_type(tax_class: TaxClass) -> str:
    """The e-barimt tax type of a class: VAT_ABLE when it carries VAT above 0 %,
    VAT_ZERO at 0 %, VAT_FREE without VAT (exempt)."""
    vat = [t for t in tax_class.taxes if t.code == VAT_CODE]
    if not vat:
        return VAT_FREE
    return VAT_ABLE if vat[0].rate > 0 else VAT_ZERO


def check_tin(text: str) -> str:
    """A buyer's TIN as typed: 11 digits for a company, 12-14 for a person."""
    tin = text.strip().replace(" ", "")
    if not (tin.isascii() and tin.isdigit() and len(tin) in TIN_DIGITS):
        raise PosError(N_("A TIN has 11 digits (a company) or 12 to 14 (a person)"))
    return tin


def bill_suffix(number: int, *, correction: bool = False) -> str:
    """``billIdSuffix``: the sale's number (six digits and up), a correction's refund
    number after a 9 (seven digits: no sale reaches 9,000,000 in a day)."""
    return f"9{number:06d}" if correction else f"{number:06d}"


def _major(amount: int, exponent: int) -> int | float:
    """An amount for the JSON: whole units where the currency has no decimals here."""
    return amount if exponent == 0 else float(Decimal(amount).scaleb(-exponent))


def _items(
    items: Sequence[Item], classes: Mapping[str, TaxClass], merchant: Merchant, exponent: int
) -> tuple[list[dict], int, int]:
    """Sub-receipts, one per tax type, with the sale's own tax figures shared over the
    lines of each tax class; and the bundle's VAT and city tax (minor units)."""
    by_class: dict[str, list[Item]] = {}
    for item in items:
        by_class.setdefault(item.tax_class, []).append(item)
    subs: dict[str, dict] = {}
    for code, lines in by_class.items():
        tax_class = classes[code]
        gross = sum(line.amount for line in lines)
        summary = summarize([(tax_class, gross)], prices_include_tax=True)
        vat = sum(r.amount for r in summary.per_rate if r.tax.code == VAT_CODE)
        city = sum(r.amount for r in summary.per_rate if r.tax.code == CITY_TAX_CODE)
        weights = [line.amount for line in lines]
        vats, cities = split_by_weight(vat, weights), split_by_weight(city, weights)
        kind = tax_type(tax_class)
        sub = subs.setdefault(kind, {"items": [], "gross": 0, "vat": 0, "city": 0})
        for line, line_vat, line_city in zip(lines, vats, cities, strict=True):
            sub["items"].append(_item(line, line_vat, line_city, kind, merchant, exponent))
        sub["gross"] += gross
        sub["vat"] += vat
        sub["city"] += city
    out = []
    for kind in TAX_TYPES:
        if kind not in subs:
            continue
        sub = subs[kind]
        out.append(
            {
                "totalAmount": _major(sub["gross"], exponent),
                "totalVAT": _major(sub["vat"], exponent),
                "totalCityTax": _major(sub["city"], exponent),
                "taxType": kind,
                "merchantTin": merchant.tin,
                "items": sub["items"],
            }
        )
    vat = sum(sub["vat"] for sub in subs.values())
    city = sum(sub["city"] for sub in subs.values())
    return out, vat, city


def _item(line: Item, vat: int, city: int, kind: str, merchant: Merchant, exponent: int) -> dict:
    gs1 = bool(line.barcode) and is_gtin_shaped(line.barcode)
    gs1 = gs1 and has_valid_check_digit(line.barcode)
    unit = Decimal(line.amount) / line.quantity if line.quantity else Decimal(0)
    item = {
        "name": line.name,
        "barCode": line.barcode or None,
        "barCodeType": "GS1" if gs1 else "UNDEFINED",
        "classificationCode": line.classification or None,
        "measureUnit": "кг" if line.by_weight else "ш",
        "qty": float(line.quantity),
        "unitPrice": float(round(unit.scaleb(-exponent), 2)),
        "totalAmount": _major(line.amount, exponent),
        "totalVAT": _major(vat, exponent),
        "totalCityTax": _major(city, exponent),
    }
    if kind != VAT_ABLE:
        item["taxProductCode"] = merchant.tax_product_codes.get(line.tax_class) or None
    return item


def receipt_request(
    items: Sequence[Item],
    classes: Mapping[str, TaxClass],
    merchant: Merchant,
    *,
    suffix: str,
    sale_label: str,
    payments: Iterable[Payment] = (),
    buyer_tin: str = "",
    consumer_no: str = "",
    replaces: str = "",
    exponent: int = 0,
) -> dict:
    """``POST /rest/receipt``'s body for ``items``: a sale, or (``replaces``: the bill it
    corrects) what a customer keeps after a partial return."""
    if not items:
        raise ValueError("an e-barimt receipt needs at least one item")
    receipts, vat, city = _items(items, classes, merchant, exponent)
    total = sum(item.amount for item in items)
    body: dict = {
        "branchNo": merchant.branch_no,
        "totalAmount": _major(total, exponent),
        "totalVAT": _major(vat, exponent),
        "totalCityTax": _major(city, exponent),
        "districtCode": merchant.district_code or None,
        "merchantTin": merchant.tin,
        "posNo": merchant.pos_no,
        "customerTin": buyer_tin or None,
        "consumerNo": (consumer_no or None) if not buyer_tin else None,
        "type": B2B if buyer_tin else B2C,
        "inactiveId": replaces or None,
        "billIdSuffix": suffix,
        "data": {"saleId": sale_label},
        "receipts": receipts,
    }
    paid = [_payment(p, exponent) for p in payments if p.kind in ("cash", "card") and p.amount]
    if paid:
        body["payments"] = paid
    return body


def _payment(p: Payment, exponent: int) -> dict:
    out: dict = {
        "code": "PAYMENT_CARD" if p.kind == "card" else "CASH",
        "status": "PAID",
        "paidAmount": _major(p.amount, exponent),
    }
    if p.kind == "card":
        out["data"] = {
            "terminalID": p.card_terminal_id,
            "rrn": p.rrn,
            "maskedCardNumber": p.masked_pan,
            "easy": False,
        }
    return out


def kept_items(sold: Sequence[Item], returned: Mapping[int, tuple[Decimal, int]]) -> list[Item]:
    """What the customer keeps after returns: ``returned`` maps a line's index in
    ``sold`` to the quantity and the money given back for it (all returns so far)."""
    kept = []
    for i, item in enumerate(sold):
        back, refunded = returned.get(i, (Decimal(0), 0))
        left = item.quantity - back
        if left <= 0:
            continue
        kept.append(
            Item(
                item.name,
                item.sku,
                item.barcode,
                item.classification,
                left,
                max(item.amount - refunded, 0),
                item.tax_class,
                item.by_weight,
            )
        )
    return kept


def parse_registration(answer: object) -> Registration:
    """PosAPI's answer to ``POST /rest/receipt``: a registration, or FiscalRefused with
    its message (a refusal, or an answer that is not one)."""
    if not isinstance(answer, dict):
        raise FiscalRefused(N_("e-barimt: PosAPI's answer is not a receipt"))
    status = answer.get("status")
    if status != "SUCCESS":
        message = str(answer.get("message") or status or "no status")[:200]
        raise FiscalRefused(N_("e-barimt refused the receipt: {reason}"), reason=message)
    bill_id, date = answer.get("id"), answer.get("date")
    if not (isinstance(bill_id, str) and bill_id.isdigit() and isinstance(date, str) and date):
        raise FiscalRefused(N_("e-barimt: PosAPI's answer is not a receipt"))
    lottery = answer.get("lottery") or ""
    qr_data = answer.get("qrData") or answer.get("qrDate") or ""  # the spec's misspelling
    return Registration(bill_id, date, str(lottery), str(qr_data), easy=answer.get("easy") is True)
