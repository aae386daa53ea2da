"""A price list from a spreadsheet: the catalogue as CSV, checked whole before anything is
taken (shops keep their price lists in spreadsheets; a fleet admin imports one).

The header names the columns, in any order (a spreadsheet's "Save as CSV", comma or
semicolon separated, UTF-8 with or without a byte-order mark):

============== ======== =================================================================
column         needed   what
============== ======== =================================================================
sku            yes      the product's own code: letters, digits, ``-``, ``_``, ``.``; unique
name           yes      as printed on the receipt (up to 60 characters)
price          yes      in the currency's major units as the shop writes them: ``12500``,
                        ``12.500`` (rupiah), ``1,50`` or ``1.50`` where the currency has
                        decimals; per kilogram for a weighed product; 0 or more
tax_class      yes      a tax class of the shop's configuration (``PPN``, ``EXEMPT``...)
barcodes       no       EAN-13, EAN-8 or UPC-A codes with a valid check digit, or short
                        internal codes; several separated by spaces or ``|``; each once in
                        the whole list
sold_by_weight no       ``yes``/``no`` (also ``1``/``0``, ``true``/``false``, ``y``/``n``);
                        default no
plu            no       the 5-digit item number in scale labels; needed when sold by weight
category       no       for promotions by category
classification no       the tax office's code for the goods (Mongolia's e-barimt: the
                        7-digit БҮНА code); empty when the shop reports none
============== ======== =================================================================

Every broken row is named with its line and column, all at once (not only the first),
and no product is returned unless every row is good: :class:`CatalogueCsvError`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import InvalidOperation

from terminal.core.barcodes import has_valid_check_digit, is_gtin_shaped, normalize
from terminal.core.catalogue import Product
from terminal.core.money import Currency

REQUIRED = ("sku", "name", "price", "tax_class")
OPTIONAL = ("barcodes", "sold_by_weight", "plu", "category", "classification")
MAX_ROWS = 100_000
MAX_NAME = 60
_SKU = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
_SHORT_CODE = re.compile(r"[A-Za-z0-9]{1,20}")
_PLU = re.compile(r"\d{5}")
_CLASSIFICATION = re.compile(r"\d{7}")
_YES = {"yes", "y", "true", "1", "ya"}
_NO = {"no", "n", "false", "0", "tidak", ""}


@dataclass(frozen=True)
class RowError:
    line: int  # in the file, the header being line 1
    column: str  # "" for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class CatalogueCsvError(ValueError):
    """The price list is refused: every problem found, in file order."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"the price list has {len(errors)} problem(s):\n{shown}{more}")


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    return _Comma if first.count(",") >= first.count(";") else _Semicolon


class _Comma(csv.excel):
    strict = True  # a quote left open is an error, not a field running to the end


class _Semicolon(_Comma):
    delimiter = ";"


def parse_catalogue_csv(
    text: str, *, currency: Currency, tax_classes: Iterable[str]
) -> list[Product]:
    """The products of a price list, or :class:`CatalogueCsvError` naming every problem."""
    text = text.removeprefix("\ufeff")
    classes = set(tax_classes)
    rows = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise CatalogueCsvError([RowError(1, "", "the file is empty: no header")]) from None
    except csv.Error as exc:
        raise CatalogueCsvError([RowError(1, "", f"not CSV: {exc}")]) from None
    problems = _header_problems(header)
    if problems:
        raise CatalogueCsvError(problems)
    errors: list[RowError] = []
    products: list[Product] = []
    seen_skus: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    seen_plus: dict[str, int] = {}
    try:
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if line > MAX_ROWS + 1:
                errors.append(RowError(line, "", f"more than {MAX_ROWS} products"))
                break
            if len(row) != len(header):
                errors.append(RowError(line, "", f"{len(row)} cells, the header has {len(header)}"))
                continue
            cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
            product = _product(line, cells, currency, classes, errors)
            if product is None:
                continue
            for key, seen, what in (
                (product.sku, seen_skus, "sku"),
                (product.plu, seen_plus, "plu"),
            ):
                if key is not None and key in seen:
                    errors.append(RowError(line, what, f"{key} is on line {seen[key]} too"))
                elif key is not None:
                    seen[key] = line
            for code in map(normalize, product.barcodes):  # UPC-A is its EAN-13 with a 0
                if code in seen_codes:
                    errors.append(
                        RowError(line, "barcodes", f"{code} is on line {seen_codes[code]} too")
                    )
                else:
                    seen_codes[code] = line
            products.append(product)
    except csv.Error as exc:
        errors.append(RowError(rows.line_num, "", f"not CSV: {exc}"))
    if errors:
        raise CatalogueCsvError(errors)
    return products


def _amount_shape(text: str, currency: Currency) -> bool:
    """Digits as the shop writes an amount: plain (``12500``) or grouped by thousands with
    the currency's separator (``12.500`` in rupiah, ``12,500`` in tugrik), with decimals
    only where the currency has them, never more of them than it has (``1.5`` is no
    rupiah amount: a price list's slip, not fifteen)."""
    thousands, decimal = re.escape(currency.thousands_sep), re.escape(currency.decimal_sep)
    whole = rf"([0-9]+|[0-9]{{1,3}}({thousands}[0-9]{{3}})+)"
    fraction = rf"({decimal}[0-9]{{1,{currency.exponent}}})?" if currency.exponent else ""
    return re.fullmatch(whole + fraction, text) is not None


def _header_problems(header: list[str]) -> list[RowError]:
    problems = []
    known = REQUIRED + OPTIONAL
    for name in header:
        if name not in known:
            problems.append(
                RowError(1, name, f"unknown column; the columns are {', '.join(known)}")
            )
    for name in REQUIRED:
        if name not in header:
            problems.append(RowError(1, name, "missing column"))
    for name in set(header):
        if header.count(name) > 1:
            problems.append(RowError(1, name, "the column is named twice"))
    return problems


def _product(
    line: int, cells: dict[str, str], currency: Currency, classes: set[str], errors: list
) -> Product | None:
    before = len(errors)

    def bad(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    sku, name = cells["sku"], cells["name"]
    if not _SKU.fullmatch(sku):
        bad("sku", f"{sku!r}: 1-40 letters, digits, '-', '_' or '.'")
    if not name:
        bad("name", "empty")
    elif len(name) > MAX_NAME:
        bad("name", f"{len(name)} characters, at most {MAX_NAME}")
    price = 0
    text = cells["price"]
    if text.startswith("-") and _amount_shape(text[1:], currency):
        bad("price", f"{text}: below zero")
    elif not _amount_shape(text, currency):
        bad("price", f"{text!r} is not an amount in {currency.code}")
    else:
        try:
            price = currency.parse(text)
        except (InvalidOperation, ArithmeticError, ValueError):
            bad("price", f"{text!r} is not an amount in {currency.code}")
    tax_class = cells["tax_class"]
    if tax_class not in classes:
        bad("tax_class", f"{tax_class!r} is not a tax class here ({', '.join(sorted(classes))})")
    codes = [c for c in re.split(r"[\s|]+", cells.get("barcodes", "")) if c]
    for code in codes:
        if is_gtin_shaped(code):
            if not has_valid_check_digit(code):
                bad("barcodes", f"{code}: wrong check digit")
        elif not _SHORT_CODE.fullmatch(code):
            bad("barcodes", f"{code!r}: not a barcode (EAN-13, EAN-8, UPC-A or a short code)")
    if len({normalize(c) for c in codes}) != len(codes):
        bad("barcodes", "a code is listed twice")
    weighed_text = cells.get("sold_by_weight", "").lower()
    weighed = weighed_text in _YES
    if not weighed and weighed_text not in _NO:
        bad("sold_by_weight", f"{cells['sold_by_weight']!r}: yes or no")
    plu = cells.get("plu", "") or None
    if plu is not None and not _PLU.fullmatch(plu):
        bad("plu", f"{plu!r}: 5 digits")
    if weighed and plu is None:
        bad("plu", "a product sold by weight needs its 5-digit scale item number")
    classification = cells.get("classification", "")
    if classification and not _CLASSIFICATION.fullmatch(classification):
        bad("classification", f"{classification!r}: the tax office's code, 7 digits")
    if len(errors) > before:
        return None
    return Product(
        sku,
        name,
        price,
        tax_class,
        tuple(codes),
        sold_by_weight=weighed,
        plu=plu,
        category=cells.get("category", ""),
        classification=cells.get("classification", ""),
    )
