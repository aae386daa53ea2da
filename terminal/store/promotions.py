"""Promotions and member prices in the database, read into the core's Promotion."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from decimal import Decimal

from peewee import Database

from terminal.core.pricing import Promotion
from terminal.store.models import PromotionRow


def save_promotions(db: Database, promotions: Iterable[Promotion]) -> int:
    count = 0
    with db.atomic():
        for p in promotions:
            PromotionRow.replace(
                code=p.code,
                name=p.name,
                start=p.start.astimezone(UTC).replace(tzinfo=None),
                end=p.end.astimezone(UTC).replace(tzinfo=None),
                skus=" ".join(sorted(p.skus)),
                categories=" ".join(sorted(p.categories)),
                percent=None if p.percent is None else str(p.percent),
                fixed_price=p.fixed_price,
                members_only=p.members_only,
                min_tier=p.min_tier,
            ).execute(db)
            count += 1
    return count


def load_promotions(db: Database) -> tuple[Promotion, ...]:
    """All promotions, in code order (the order ties are broken in)."""
    return tuple(
        Promotion(
            code=row.code,
            name=row.name,
            start=row.start.replace(tzinfo=UTC),
            end=row.end.replace(tzinfo=UTC),
            skus=frozenset(row.skus.split()),
            categories=frozenset(row.categories.split()),
            percent=None if row.percent is None else Decimal(row.percent),
            fixed_price=row.fixed_price,
            members_only=row.members_only,
            min_tier=row.min_tier,
        )
        for row in PromotionRow.select().order_by(PromotionRow.code).bind(db)
    )
