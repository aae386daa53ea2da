"""The sale being keyed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from terminal.core.catalogue import Catalogue, Product, ScanResult, line_amount
from terminal.core.clock import Clock
from terminal.core.errors import N_, QuantityError
from terminal.core.money import split_by_weight
from terminal.core.pricing import Discount, DiscountError, Promotion, best_promotion
from terminal.core.taxes import TaxSummary, summarize

MAX_COUNT = 999  # pieces on one line
MAX_WEIGHT = Decimal("99.999")  # kilograms on one line
WEIGHT_STEP = Decimal("0.001")


@dataclass
class CartLine:
    product: Product
    quantity: Decimal
    added_at: datetime
    fixed_amount: int | None = None  # from a price-embedded barcode
    from_label: bool = False  # quantity or price came from a scale label
    promotion: Promotion | None = None  # set by Cart.reprice
    promoted: int = 0  # the amount after the promotion
    discount: Discount | None = None  # the cashier's line discount
    line_discount: int = 0
    transaction_share: int = 0  # this line's part of the transaction discount

    @property
    def unit_price(self) -> int:
        return self.product.price

    @property
    def regular_amount(self) -> int:
        if self.fixed_amount is not None:
            return self.fixed_amount
        return line_amount(self.product.price, self.quantity)

    @property
    def before_transaction_discount(self) -> int:
        return self.promoted - self.line_discount

    @property
    def amount(self) -> int:
        """What the customer pays for this line, and what its tax is computed on."""
        return self.promoted - self.line_discount - self.transaction_share

    @property
    def savings(self) -> int:
        return self.regular_amount - self.amount


def parse_quantity(text: str, product: Product) -> Decimal:
    """Validate a quantity the cashier typed for ``product``.

    Whole pieces for countable products, up to 3 decimals (kg) for weighed ones;
    never zero or negative, never more than a shop could hand over on one line.
    """
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise QuantityError(N_("{text} is not a quantity"), text=text) from None
    if not value.is_finite() or value <= 0:
        raise QuantityError(N_("Quantity must be more than zero"))
    if product.sold_by_weight:
        # compare before quantize: 1e30 cannot be quantized to grams at all
        if value > MAX_WEIGHT or value != value.quantize(WEIGHT_STEP):
            raise QuantityError(
                N_("Weight must be at most {max} kg, in steps of 1 g"), max=str(MAX_WEIGHT)
            )
        return value.quantize(WEIGHT_STEP)
    if value != value.to_integral_value():
        raise QuantityError(
            N_("{name} is sold by the piece: whole numbers only"), name=product.name
        )
    if value > MAX_COUNT:
        raise QuantityError(N_("Quantity must be at most {max}"), max=MAX_COUNT)
    return value.quantize(Decimal(1))


class Cart:
    def __init__(
        self,
        catalogue: Catalogue,
        clock: Clock,
        *,
        prices_include_tax: bool,
        promotions: tuple[Promotion, ...] = (),
    ) -> None:
        self.catalogue = catalogue
        self.clock = clock
        self.prices_include_tax = prices_include_tax
        self.promotions = promotions
        self.lines: list[CartLine] = []
        self.member_tier: int | None = None  # the customer's tier rank, None: no member
        self.transaction_discount: Discount | None = None
        self.transaction_discount_amount = 0
        self._taxes_key: tuple | None = None
        self._taxes: TaxSummary | None = None

    def add(self, scan: ScanResult) -> CartLine:
        if scan.quantity <= 0 or (scan.amount is not None and scan.amount <= 0):
            raise QuantityError(N_("The scale label shows zero: weigh the item again"))
        line = CartLine(scan.product, scan.quantity, self.clock(), scan.amount, scan.from_label)
        self.lines.append(line)
        self.reprice()
        return line

    def add_code(self, code: str) -> CartLine:
        """Add by barcode or SKU; raises UnknownCode / InvalidBarcode and adds nothing."""
        return self.add(self.catalogue.lookup(code))

    def set_quantity(self, index: int, text: str) -> CartLine:
        line = self.lines[index]
        if line.from_label:
            raise QuantityError(
                N_("This item's weight or price is on its scale label: weigh it again")
            )
        quantity = parse_quantity(text, line.product)
        old, line.quantity = line.quantity, quantity
        try:
            self.reprice()
        except DiscountError:  # an amount discount now larger than the line
            line.quantity = old
            self.reprice()
            raise
        return line

    def remove(self, index: int) -> CartLine:
        line = self.lines.pop(index)
        self.reprice()  # (an amount off the sale now more than what is left is dropped)
        return line

    def clear(self) -> None:
        self.lines.clear()
        self.transaction_discount = None
        self.reprice()

    def set_line_discount(self, index: int, discount: Discount | None) -> CartLine:
        line = self.lines[index]
        old, line.discount = line.discount, discount
        try:
            self.reprice()
            if discount is not None:
                discount.amount_off(line.promoted)  # more than the line: refused
        except DiscountError:
            line.discount = old
            self.reprice()
            raise
        return line

    def set_transaction_discount(self, discount: Discount | None) -> int:
        old, self.transaction_discount = self.transaction_discount, discount
        try:
            self.reprice()
            if discount is not None:
                discount.amount_off(self.subtotal_before_discount)  # more than the sale: refused
        except DiscountError:
            self.transaction_discount = old
            self.reprice()
            raise
        return self.transaction_discount_amount

    def set_member_tier(self, tier: int | None) -> None:
        self.member_tier = tier
        self.reprice()

    def reprice(self) -> None:
        """Apply promotions, line discounts and the transaction discount (see pricing).

        An amount off stays that amount whatever is added. One that has become more
        than what it is taken from (lines voided, a quantity lowered) is dropped, not
        cut down: it would make goods free; the cashier gives it again, checked anew."""
        for line in self.lines:
            unit = None if line.fixed_amount is not None else line.product.price
            line.promotion, line.promoted = best_promotion(
                self.promotions,
                sku=line.product.sku,
                category=line.product.category,
                at=line.added_at,
                tier=self.member_tier,
                regular=line.regular_amount,
                unit_price=unit,
                quantity=line.quantity,
            )
            if line.discount and line.discount.more_than(line.promoted):
                line.discount = None
            line.line_discount = line.discount.taken_off(line.promoted) if line.discount else 0
        bases = [line.before_transaction_discount for line in self.lines]
        if self.transaction_discount and self.transaction_discount.more_than(sum(bases)):
            self.transaction_discount = None
        off = self.transaction_discount.taken_off(sum(bases)) if self.transaction_discount else 0
        self.transaction_discount_amount = off
        for line, share in zip(self.lines, split_by_weight(off, bases), strict=True):
            line.transaction_share = share

    @property
    def subtotal_before_discount(self) -> int:
        return sum(line.before_transaction_discount for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def taxes(self) -> TaxSummary:
        """The tax breakdown, recomputed only when the lines' classes or amounts changed."""
        key = tuple((line.product.tax_class, line.amount) for line in self.lines)
        if key != self._taxes_key:
            self._taxes = summarize(
                ((self.catalogue.tax_classes[code], amount) for code, amount in key),
                prices_include_tax=self.prices_include_tax,
            )
            self._taxes_key = key
        return self._taxes

    @property
    def total(self) -> int:
        return self.taxes().gross
