"""Products in the database, read into the core catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from terminal.core.barcodes import WeighedFormat
from terminal.core.catalogue import Catalogue, Product
from terminal.core.taxes import TaxClass
from terminal.store.models import BarcodeRow, ProductRow, database


def save_products(products: Iterable[Product]) -> int:
    """Insert or replace products with their barcodes; returns how many."""
    count = 0
    with database.atomic():
        for p in products:
            ProductRow.replace(
                sku=p.sku,
                name=p.name,
                price=p.price,
                tax_class=p.tax_class,
                sold_by_weight=p.sold_by_weight,
                plu=p.plu,
                category=p.category,
            ).execute()
            BarcodeRow.delete().where(BarcodeRow.product == p.sku).execute()
            for code in p.barcodes:
                BarcodeRow.create(code=code, product=p.sku)
            count += 1
    return count


def load_catalogue(tax_classes: dict[str, TaxClass], formats: list[WeighedFormat]) -> Catalogue:
    codes: dict[str, list[str]] = {}
    for row in BarcodeRow.select().order_by(BarcodeRow.code):
        codes.setdefault(row.product_sku, []).append(row.code)
    products = [
        Product(
            sku=row.sku,
            name=row.name,
            price=row.price,
            tax_class=row.tax_class,
            barcodes=tuple(codes.get(row.sku, ())),
            sold_by_weight=row.sold_by_weight,
            plu=row.plu,
            category=row.category,
        )
        for row in ProductRow.select().where(ProductRow.active == True).order_by(ProductRow.name)  # noqa: E712
    ]
    return Catalogue(products, tax_classes, formats)


def weighed_skus(skus: Iterable[str]) -> set[str]:
    """Which of ``skus`` are sold by weight (for sale lines read back from the store)."""
    rows = ProductRow.select(ProductRow.sku).where(
        ProductRow.sku.in_(list(set(skus))) & (ProductRow.sold_by_weight == True)  # noqa: E712
    )
    return {row.sku for row in rows}


def product_count() -> int:
    return ProductRow.select().count()
