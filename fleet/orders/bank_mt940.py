"""SWIFT MT940 statements read through the ``mt-940`` package (``import mt940``).

Each ``:61:`` is parsed with its statement's header (``:20:`` … ``:60F:``) on its own, so
a broken entry is named by the line of its ``:61:`` tag and every other entry is still
checked (the package stops at the first tag it cannot read). Credit or debit comes from
the ``:61:`` mark: ``C`` and ``RD`` (a debit reversed) are money in, ``D`` and ``RC``
money out. The currency is the statement's (its opening balance ``:60F:``/``:60M:``); a
statement in another currency than the account's is refused. The description is the
``:86:`` text, else the ``:61:`` references.
"""

from __future__ import annotations

import re
from decimal import InvalidOperation

import mt940

from fleet.orders.statements import (
    RowError,
    StatementError,
    StatementLine,
    decode,
    minor_units,
    with_keys,
)

TAG = re.compile(r"^:(?P<tag>[0-9]{2}[A-Z]?|NS):")
SIGNS = {"C": 1, "RD": 1, "D": -1, "RC": -1}


def looks_like_mt940(text: str) -> bool:
    """A ``:20:`` and a ``:60F:``/``:61:`` tag at the start of lines."""
    tags = {m.group("tag") for m in (TAG.match(line.strip()) for line in text.splitlines()) if m}
    return "20" in tags and bool(tags & {"60F", "60M", "61", "62F"})


def read_mt940(data: bytes, currency: str = "IDR") -> list[StatementLine]:
    """Every ``:61:`` entry as a line with its key; StatementError naming each broken
    entry by its ``:61:`` line, or the statement whose header cannot be read."""
    text = decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not looks_like_mt940(text):
        raise StatementError(
            [RowError(1, "-", "not an MT940 statement: no :20: and :60F:/:61: tags")]
        )
    errors: list[RowError] = []
    out: list[StatementLine] = []
    for start, end in _statements(lines):
        header, entries = _split(lines, start, end)
        statement_currency = _currency(lines, start, header, errors)
        if statement_currency is None:
            continue
        for first, last in entries:
            line = _entry(lines, header, first, last, statement_currency, currency, errors)
            if line is not None:
                out.append(line)
    if errors:
        raise StatementError(errors)
    return with_keys(out)


def _statements(lines: list[str]) -> list[tuple[int, int]]:
    """Each statement's lines, ``:20:`` to the next ``:20:``."""
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(":20:")]
    return [(s, e) for s, e in zip(starts, [*starts[1:], len(lines)], strict=True)]


def _split(lines: list[str], start: int, end: int) -> tuple[list[str], list[tuple[int, int]]]:
    """The statement's header lines and each ``:61:`` entry's range (with its ``:86:``)."""
    tags = [i for i in range(start, end) if lines[i].strip().startswith(":61:")]
    first = tags[0] if tags else end
    header = lines[start:first]
    return header, list(zip(tags, [*tags[1:], end], strict=True))


def _parsed(text: str) -> mt940.models.Transactions:
    transactions = mt940.models.Transactions()
    transactions.parse(text)
    return transactions


def _currency(
    lines: list[str], start: int, header: list[str], errors: list[RowError]
) -> str | None:
    try:
        parsed = _parsed("\n".join(header))
    except (RuntimeError, ValueError, KeyError, InvalidOperation) as exc:
        errors.append(RowError(start + 1, "tag 20", f"the statement's header does not read: {exc}"))
        return None
    if parsed.currency is None:
        errors.append(RowError(start + 1, "tag 60F", "no opening balance names the currency"))
    return parsed.currency


def _entry(
    lines: list[str],
    header: list[str],
    first: int,
    last: int,
    statement_currency: str,
    currency: str,
    errors: list[RowError],
) -> StatementLine | None:
    line_no = first + 1
    if statement_currency != currency:
        errors.append(
            RowError(
                line_no,
                "tag 61",
                f"the statement is in {statement_currency}, the account in {currency}",
            )
        )
        return None
    try:
        parsed = _parsed("\n".join([*header, *lines[first:last]]))
        data = parsed.transactions[-1].data
        mark = str(data["status"]).upper()
        amount = SIGNS[mark] * abs(minor_units(data["amount"].amount, currency))
    except (RuntimeError, KeyError, IndexError) as exc:
        shown = lines[first].strip()[4:64]
        errors.append(RowError(line_no, "tag 61", f"{shown!r} does not read ({exc})"))
        return None
    except (InvalidOperation, ValueError):
        errors.append(RowError(line_no, "tag 61", f"not an amount in whole {currency} minor units"))
        return None
    booked = data.get("entry_date") or data["date"]
    details = " ".join(str(data.get("transaction_details") or "").split())
    if not details:
        refs = (data.get("customer_reference"), data.get("extra_details"))
        details = " ".join(str(r).strip() for r in refs if r)
    return StatementLine(line_no, booked, amount, details)
