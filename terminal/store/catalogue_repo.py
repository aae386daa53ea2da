"""Products in the database, read into the core catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import Database

from terminal.core.barcodes import WeighedFormat
from terminal.core.catalogue import Catalogue, Product
from terminal.core.taxes import TaxClass
from terminal.store.models import BarcodeRow, ProductRow


def save_products(db: Database, products: Iterable[Product]) -> int:
    """Insert or replace products with their barcodes; returns how many."""
    count = 0
    with db.atomic():
        for p in products:
            ProductRow.replace(
                sku=p.sku,
                name=p.name,
                price=p.price,
                tax_class=p.tax_class,
                sold_by_weight=p.sold_by_weight,
                plu=p.plu,
                category=p.category,
                classification=p.classification,
            ).execute(db)
            BarcodeRow.delete().where(BarcodeRow.product == p.sku).execute(db)
            for code in p.barcodes:
                BarcodeRow.insert(code=code, product=p.sku).execute(db)
            count += 1
    return count


def load_catalogue(
    db: Database, tax_classes: dict[str, TaxClass], formats: list[WeighedFormat]
) -> Catalogue:
    codes: dict[str, list[str]] = {}
    for row in BarcodeRow.select().order_by(BarcodeRow.code).bind(db):
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
            classification=row.classification,
        )
        for row in ProductRow.select()
        .where(ProductRow.active == True)  # noqa: E712
        .order_by(ProductRow.name)
        .bind(db)
    ]
    return Catalogue(products, tax_classes, formats)


def weighed_skus(db: Database, skus: Iterable[str]) -> set[str]:
    """Which of ``skus`` are sold by weight (for sale lines read back from the store)."""
    rows = ProductRow.select(ProductRow.sku).where(
        ProductRow.sku.in_(list(set(skus))) & (ProductRow.sold_by_weight == True)  # noqa: E712
    )
    return {row.sku for row in rows.bind(db)}


def product_count(db: Database) -> int:
    return ProductRow.select().count(db)
