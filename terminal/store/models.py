"""Tables. Money in integer minor units; quantities in thousandths (exact for kg)."""

from __future__ import annotations

from peewee import (
    SQL,
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)


class _NoDatabase(SqliteDatabase):
    """The models' own database: none. Every query names the terminal's database it runs
    on (``query.bind(db)``, ``execute(db)``, ``get(db)``), so two terminals in one
    process (or a tool beside the app) never share one by accident; a query that names
    none fails here, at once."""

    def connect(self, reuse_if_open: bool = False):
        raise RuntimeError(
            "a model query that names no database: bind it to the terminal's (query.bind(db))"
        )


UNBOUND = _NoDatabase(None)

# columns added in schema 3 get an SQL default too, so rows written by plain SQL (tools,
# benchmarks, older code paths) never fail on them
ZERO = SQL("DEFAULT 0")


class BaseModel(Model):
    class Meta:
        database = UNBOUND


class ProductRow(BaseModel):
    sku = CharField(primary_key=True)
    name = CharField()
    price = IntegerField()
    tax_class = CharField()
    sold_by_weight = BooleanField(default=False)
    plu = CharField(null=True, unique=True)
    active = BooleanField(default=True)
    category = CharField(default="", constraints=[SQL("DEFAULT ''")])
    stock_milli = IntegerField(null=True)  # thousandths on hand; NULL: stock not kept
    classification = CharField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "product"


class BarcodeRow(BaseModel):
    code = CharField(primary_key=True)
    product = ForeignKeyField(
        ProductRow, backref="barcodes", column_name="sku", object_id_name="product_sku"
    )

    class Meta:
        table_name = "barcode"


class CashierRow(BaseModel):
    id = IntegerField(primary_key=True)  # the operator number typed at sign-in
    name = CharField()
    role = CharField()  # cashier | supervisor
    pin_hash = TextField()
    peppered = BooleanField(default=True)  # False: hashed before the pepper existed
    active = BooleanField(default=True)

    class Meta:
        table_name = "cashier"


class AuthFailureRow(BaseModel):
    """Wrong PIN / passkey entries per subject (``cashier:3``, ``passkey:discounts``)."""

    subject = CharField(primary_key=True)
    failures = IntegerField(default=0)
    lockouts = IntegerField(default=0)
    locked_until = DateTimeField(null=True)  # UTC

    class Meta:
        table_name = "auth_failure"


class CounterRow(BaseModel):
    """Last transaction number per terminal; bumped inside each sale's transaction."""

    terminal_id = CharField(primary_key=True)
    last_number = IntegerField(default=0)

    class Meta:
        table_name = "counter"


class SaleRow(BaseModel):
    terminal_id = CharField()
    number = IntegerField()
    created_at = DateTimeField()  # UTC
    cashier = ForeignKeyField(CashierRow, column_name="cashier_id", index=False)
    currency = CharField()
    prices_include_tax = BooleanField()
    net = IntegerField()
    tax = IntegerField()
    total = IntegerField()
    rounding = IntegerField(default=0)  # cash rounding added to the total
    return_code = CharField()  # found through (terminal_id, number): see store.refunds
    shift_id = IntegerField(null=True)
    customer_id = CharField(null=True)
    discount = IntegerField(default=0, constraints=[ZERO])  # the cashier's (promotions are prices)
    points_earned = IntegerField(default=0, constraints=[ZERO])
    reprints = IntegerField(default=0, constraints=[ZERO])  # copies printed after the original
    points_balance = IntegerField(null=True)  # the member's points after it, as printed

    class Meta:
        table_name = "sale"
        indexes = (
            (("terminal_id", "number"), True),
            (("created_at",), False),  # reports by period
        )


class SaleLineRow(BaseModel):
    # indexed by the primary key (sale, position): no index of its own to write
    sale = ForeignKeyField(SaleRow, backref="lines", on_delete="CASCADE", index=False)
    position = IntegerField()
    sku = CharField()
    name = CharField()
    quantity_milli = IntegerField()
    unit_price = IntegerField()
    amount = IntegerField()
    tax_class = CharField()
    regular_amount = IntegerField(default=0, constraints=[ZERO])
    discount = IntegerField(default=0, constraints=[ZERO])  # all of them, its sale share included
    own_discount = IntegerField(default=0, constraints=[ZERO])  # the line's own discount
    promotion = CharField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "sale_line"
        primary_key = CompositeKey("sale", "position")


class SaleTaxRow(BaseModel):
    sale = ForeignKeyField(SaleRow, backref="taxes", on_delete="CASCADE", index=False)
    code = CharField()
    name = CharField()
    rate = CharField()  # percent as text, exact
    base = IntegerField()
    amount = IntegerField()

    class Meta:
        table_name = "sale_tax"
        primary_key = CompositeKey("sale", "code", "rate")


class TenderRow(BaseModel):
    sale = ForeignKeyField(SaleRow, backref="tenders", on_delete="CASCADE")
    kind = CharField()  # cash | card | points
    amount = IntegerField()  # applied to the sale
    tendered = IntegerField()
    change = IntegerField()
    points = IntegerField(default=0, constraints=[ZERO])
    receipt_number = IntegerField(null=True)  # card: the card terminal's, for a reversal
    reference = CharField(default="", constraints=[SQL("DEFAULT ''")])  # bank transfer's

    class Meta:
        table_name = "tender"


class CustomerRow(BaseModel):
    """Personal data sealed (AES-GCM, see sealing.py); found by blind indexes."""

    id = CharField(primary_key=True)  # random, so a sealed value's row id exists before insert
    name = BlobField()
    phone = BlobField(null=True)
    address = BlobField(null=True)
    phone_index = CharField(null=True, index=True)
    created_at = DateTimeField()
    member_code = CharField(null=True, unique=True)  # the member card's barcode
    points = IntegerField(default=0, constraints=[ZERO])
    lifetime_points = IntegerField(default=0, constraints=[ZERO])
    deleted = BooleanField(default=False, constraints=[ZERO])

    class Meta:
        table_name = "customer"


class CardAuthRow(BaseModel):
    """What is kept of a card payment, sealed: never track data, CVV or PIN block."""

    tender = ForeignKeyField(TenderRow, primary_key=True, column_name="tender_id")
    masked_pan = BlobField()
    auth_code = BlobField()
    trace_number = BlobField()
    card_terminal_id = CharField()  # the payment terminal's id (not secret)
    slip = BlobField(null=True)  # the card terminal's receipt lines, for a faithful copy

    class Meta:
        table_name = "card_auth"


class PasskeyRow(BaseModel):
    """A passkey category (seed 000): on or off, and its 6-digit code's Argon2id hash."""

    category = CharField(primary_key=True)
    enabled = BooleanField(default=False)
    code_hash = TextField(null=True)

    class Meta:
        table_name = "passkey"


class ShiftRow(BaseModel):
    terminal_id = CharField()
    cashier_id = IntegerField()
    opened_at = DateTimeField()
    opening_float = IntegerField()
    closed_at = DateTimeField(null=True)
    expected = IntegerField(null=True)
    counted = IntegerField(null=True)
    variance = IntegerField(null=True)
    counts = TextField(null=True)  # JSON: denomination -> count

    class Meta:
        table_name = "shift"


class RefundRow(BaseModel):
    terminal_id = CharField()
    number = IntegerField()
    created_at = DateTimeField()
    sale = ForeignKeyField(SaleRow, null=True, backref="refunds")  # NULL: without a receipt
    cashier_id = IntegerField()
    shift_id = IntegerField(null=True)
    amount = IntegerField()
    reason = CharField()
    approved_by = CharField(null=True)
    points_back = IntegerField(default=0)

    class Meta:
        table_name = "refund"
        indexes = ((("terminal_id", "number"), True),)


class RefundLineRow(BaseModel):
    refund = ForeignKeyField(RefundRow, backref="lines", on_delete="CASCADE")
    position = IntegerField()  # the sale line's position (0 without a receipt)
    sku = CharField()
    name = CharField()
    quantity_milli = IntegerField()
    amount = IntegerField()
    tax_class = CharField()
    restock = BooleanField()

    class Meta:
        table_name = "refund_line"


class RefundTenderRow(BaseModel):
    refund = ForeignKeyField(RefundRow, backref="tenders", on_delete="CASCADE")
    kind = CharField()  # cash | card
    amount = IntegerField()
    receipt_number = IntegerField(null=True)

    class Meta:
        table_name = "refund_tender"


class CardPaymentRow(BaseModel):
    """A card payment, refund or reversal as sent to the card terminal: written as
    pending *before* the request goes out, then resolved (see hal.card.payments)."""

    payment_id = CharField(primary_key=True)
    kind = CharField()  # payment | refund | reversal
    amount = IntegerField()
    state = CharField()  # pending | paid | declined | not-charged | unknown
    created_at = DateTimeField()
    receipt_number = IntegerField(null=True)
    settled = BooleanField(default=False)  # attached to a committed sale or refund
    plan = TextField(null=True)  # a refund: what it pays back, to record it once resolved

    class Meta:
        table_name = "card_payment"


class PromotionRow(BaseModel):
    code = CharField(primary_key=True)
    name = CharField()
    start = DateTimeField()  # UTC
    end = DateTimeField()
    skus = TextField(default="")  # space-separated
    categories = TextField(default="")
    percent = CharField(null=True)
    fixed_price = IntegerField(null=True)
    members_only = BooleanField(default=False)
    min_tier = IntegerField(default=0)

    class Meta:
        table_name = "promotion"


ALL_MODELS = [
    ProductRow,
    BarcodeRow,
    CashierRow,
    AuthFailureRow,
    CounterRow,
    SaleRow,
    SaleLineRow,
    SaleTaxRow,
    TenderRow,
    CustomerRow,
    CardAuthRow,
    PasskeyRow,
    ShiftRow,
    RefundRow,
    RefundLineRow,
    RefundTenderRow,
    CardPaymentRow,
    PromotionRow,
]
