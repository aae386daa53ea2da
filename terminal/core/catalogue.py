"""Products and code lookup: what a scan or a typed code means."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from terminal.core.barcodes import (
    WeighedFormat,
    decode_weighed,
    has_valid_check_digit,
    is_gtin_shaped,
    normalize,
)
from terminal.core.digits import is_digits
from terminal.core.errors import InvalidBarcode, UnknownCode
from terminal.core.money import round_half_up
from terminal.core.taxes import TaxClass

PLU_DIGITS = 5  # the item code field of a weighed-item barcode


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: int  # minor units; per kilogram when sold by weight
    tax_class: str
    barcodes: tuple[str, ...] = ()
    sold_by_weight: bool = False
    plu: str | None = None  # item code inside weighed-item barcodes
    category: str = ""  # for promotions by category
    # the tax office's classification of the goods (e-barimt: the 7-digit БҮНА code)
    classification: str = ""


@dataclass(frozen=True)
class ScanResult:
    product: Product
    quantity: Decimal = Decimal(1)
    amount: int | None = None  # fixed line amount (price-embedded barcode)
    from_label: bool = False  # a scale label fixed the quantity or the amount


@dataclass
class Catalogue:
    products: Iterable[Product]
    tax_classes: dict[str, TaxClass]
    weighed_formats: list[WeighedFormat] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.products = list(self.products)
        self._by_sku: dict[str, Product] = {}
        self._by_code: dict[str, Product] = {}
        self._by_plu: dict[str, Product] = {}
        for product in self.products:
            if product.tax_class not in self.tax_classes:
                raise ValueError(f"product {product.sku}: unknown tax class {product.tax_class!r}")
            if product.sku.upper() in self._by_sku:
                raise ValueError(f"duplicate SKU {product.sku}")
            self._by_sku[product.sku.upper()] = product
            for code in product.barcodes:
                if is_gtin_shaped(code) and not has_valid_check_digit(code):
                    raise ValueError(f"product {product.sku}: barcode {code} has a bad check digit")
                key = normalize(code)
                if key in self._by_code:
                    raise ValueError(f"barcode {code} is on two products")
                self._by_code[key] = product
            if product.plu:
                if not (is_digits(product.plu) and len(product.plu) == PLU_DIGITS):
                    raise ValueError(
                        f"product {product.sku}: PLU must be {PLU_DIGITS} digits, as on scale "
                        f"labels (got {product.plu!r})"
                    )
                self._by_plu[product.plu] = product

    def get(self, sku: str) -> Product:
        return self._by_sku[sku.upper()]

    def tax_class_of(self, product: Product) -> TaxClass:
        return self.tax_classes[product.tax_class]

    def lookup(self, code: str) -> ScanResult:
        """Resolve a scanned or typed code: barcode, weighed-item barcode, then SKU.

        Raises :class:`InvalidBarcode` for a GTIN with a wrong check digit (a misread),
        :class:`UnknownCode` when nothing matches.
        """
        code = code.strip()
        if not code:
            raise UnknownCode(code)
        if is_gtin_shaped(code):
            if not has_valid_check_digit(code):
                # an internal code that happens to be 8/12/13 digits long still wins
                product = self._by_code.get(code) or self._by_sku.get(code.upper())
                if product:
                    return ScanResult(product)
                raise InvalidBarcode(code)
            weighed = decode_weighed(code, self.weighed_formats)
            if weighed is not None:
                return self._weighed(code, weighed.item_code, weighed.kind, weighed.value)
        product = self._by_code.get(normalize(code)) or self._by_sku.get(code.upper())
        if product is None:
            raise UnknownCode(code)
        return ScanResult(product)

    def _weighed(self, code: str, item: str, kind: str, value: Decimal) -> ScanResult:
        product = self._by_plu.get(item)
        if product is None:
            raise UnknownCode(code)
        if kind == "weight":
            return ScanResult(product, quantity=value, from_label=True)
        amount = int(value)
        quantity = (
            (Decimal(amount) / product.price).quantize(Decimal("0.001"))
            if product.price
            else Decimal(1)
        )
        return ScanResult(product, quantity=quantity, amount=amount, from_label=True)

    def search(self, text: str, limit: int = 20) -> list[Product]:
        """Products whose name, SKU or a barcode contains ``text`` (case-insensitive)."""
        needle = text.strip().casefold()
        if not needle:
            return []
        hits = [
            p
            for p in self.products
            if needle in p.name.casefold()
            or needle in p.sku.casefold()
            or any(needle in code for code in p.barcodes)
        ]
        hits.sort(key=lambda p: (not p.name.casefold().startswith(needle), p.name.casefold()))
        return hits[:limit]


def line_amount(unit_price: int, quantity: Decimal) -> int:
    return round_half_up(Decimal(unit_price) * quantity)


def format_quantity(quantity: Decimal, by_weight: bool, decimal_sep: str) -> str:
    """``3`` pieces, or ``1,234 kg`` with the currency's decimal separator."""
    if by_weight:
        return f"{quantity:.3f}".replace(".", decimal_sep) + " kg"
    return str(int(quantity))
