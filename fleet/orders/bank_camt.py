"""ISO 20022 CAMT.053 (bank-to-customer statement) read through ``pycamt``.

pycamt gives one transaction per entry without details, or one per ``TxDtls`` of an
entry; the entries are walked in the same order (statement by statement, ``Ntry`` by
``Ntry``) so every line and every error names its entry: its index (1 = the first) and
its ``AcctSvcrRef`` or ``NtryRef``. Credit or debit is the entry's ``CdtDbtInd``
(``CRDT`` in, ``DBIT`` out; a reversal, ``RvslInd`` true, turns it round). Entries
not booked yet (``Sts`` ``PDNG`` or ``INFO``) are left out. The description is the
counterparty's name (the debtor of a credit, the creditor of a debit) and the
remittance information (``RmtInf``), else the entry's additional information.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree
from pycamt.parser import Camt053ParseError, Camt053Parser

from fleet.orders.statements import (
    RowError,
    StatementError,
    StatementLine,
    minor_units,
    with_keys,
)

NOT_BOOKED = frozenset({"PDNG", "INFO"})
SIGNS = {"CRDT": 1, "DBIT": -1}


def looks_like_camt053(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") and b"camt.053" in head


def read_camt053(data: bytes, currency: str = "IDR") -> list[StatementLine]:
    """Every booked entry as a line with its key; StatementError naming each broken
    entry by its index and reference."""
    try:
        parser = Camt053Parser(data)
    except etree.XMLSyntaxError as exc:
        raise StatementError(
            [RowError(exc.lineno or 1, "-", f"not an XML document: {exc.msg}")]
        ) from None
    if "camt.053" not in str(parser.tree.tag):
        raise StatementError(
            [RowError(1, "-", f"not a CAMT.053 statement (the document is {parser.tree.tag})")]
        )
    ns = parser.namespaces
    try:
        transactions = parser.get_transactions()
        statements = parser.tree.findall(".//Stmt", ns) or parser.tree.findall(".//Rpt", ns)
    except (Camt053ParseError, AttributeError) as exc:
        raise StatementError(
            [RowError(1, "-", f"the statement does not read: {type(exc).__name__}")]
        ) from None
    errors: list[RowError] = []
    lines: list[StatementLine] = []
    at, index = 0, 0
    for number, statement in enumerate(statements, start=1):
        account_currency = statement.findtext(".//Acct/Ccy", None, ns)
        other = bool(account_currency) and account_currency != currency
        if other:
            errors.append(
                RowError(
                    number,
                    "Acct/Ccy",
                    f"the statement is in {account_currency}, the account in {currency}",
                    "statement",
                )
            )
        for entry in statement.findall(".//Ntry", ns):
            index += 1
            details = len(entry.findall(".//NtryDtls//TxDtls", ns))
            parts = transactions[at : at + max(details, 1)]
            at += max(details, 1)
            ref = entry.findtext("AcctSvcrRef", None, ns) or entry.findtext("NtryRef", None, ns)
            where = f"ref {ref}" if ref else "-"
            if other:
                continue
            try:
                lines += _lines(index, parts, currency)
            except ValueError as exc:
                errors.append(RowError(index, where, str(exc), "entry"))
    if errors:
        raise StatementError(errors)
    return with_keys(lines)


def _lines(index: int, parts: list[dict], currency: str) -> list[StatementLine]:
    out = []
    for part in parts:
        if str(part.get("Status") or "BOOK").upper() in NOT_BOOKED:
            continue
        mark = str(part.get("CreditDebitIndicator") or "")
        if mark not in SIGNS:
            raise ValueError(f"{mark!r} is not a credit/debit mark (CRDT or DBIT)")
        sign = SIGNS[mark] * (-1 if str(part.get("ReversalIndicator")).lower() == "true" else 1)
        code = part.get("Currency")
        if code != currency:
            raise ValueError(f"the entry is in {code}, the account in {currency}")
        try:
            amount = sign * abs(minor_units(Decimal(str(part.get("Amount"))), currency))
        except InvalidOperation:
            raise ValueError(
                f"{part.get('Amount')!r} is not an amount in {currency}'s minor units"
            ) from None
        booked_text = str(part.get("BookingDate") or part.get("ValueDate") or "")[:10]
        try:
            booked = date.fromisoformat(booked_text)
        except ValueError:
            raise ValueError(f"{booked_text!r} is not a booking date") from None
        name = part.get("DebtorName") if sign > 0 else part.get("CreditorName")
        remittance = part.get("RemittanceInformationFull") or part.get("RemittanceInformation")
        text = remittance or part.get("AdditionalEntryInformation")
        description = " ".join(" ".join(str(p).split()) for p in (name, text) if p)
        out.append(StatementLine(index, booked, amount, description))
    return out
