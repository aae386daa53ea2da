"""The Mongolian demo store (``make run STORE=mn``): a neighbourhood shop in Ulaanbaatar.

Prices in whole tögrög, VAT included. Tax classes of ``config/stores/mn.toml``: ``VAT``
(НӨАТ 10%), ``VAT_CITY`` (НӨАТ 10% + НХАТ 2%, the city tax on alcohol and tobacco in
Ulaanbaatar), ``FREE`` (VAT-exempt). Barcodes use GS1 Mongolia's 865 prefix with made-up
company and item numbers and computed check digits.

Each product carries a 7-digit БҮНА classification code (the National Statistics Office's
classification of products, which e-barimt asks for per item). The codes here are
illustrative: of the right shape and near the goods' group, not looked up one by one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from terminal.core.catalogue import Product
from terminal.core.pricing import Promotion
from terminal.services.demo import gtin

CASHIER = (1, "Сараа", "cashier", "1357")
SUPERVISOR = (2, "Болд", "supervisor", "2580")
MEMBER = ("Батбаяр Дорж", "9911-2233", "БЗД, 3-р хороо, Улаанбаатар", "MBR0001")

_ITEMS = [
    # sku, name, price (₮), tax class, barcode body, БҮНА code (illustrative)
    ("SUU-1L", "Сүү 1 л", 4200, "VAT", "865000100101", "2211100"),
    ("TARAG", "Тараг 500 г", 3500, "VAT", "865000100102", "2229300"),
    ("AARUUL", "Ааруул 200 г", 6500, "VAT", "865000100103", "2225900"),
    ("TALKH", "Атар талх", 2800, "VAT", "865000200201", "2341000"),
    ("BOORTSOG", "Боорцог 300 г", 3900, "VAT", "865000200202", "2342000"),
    ("GOIMON", "Гоймон 400 г", 2300, "VAT", "865000200203", "2371000"),
    ("BUDAA", "Цагаан будаа 1 кг", 4900, "VAT", "865000200204", "2316000"),
    ("ELSEN", "Элсэн чихэр 1 кг", 4500, "VAT", "865000200205", "2351100"),
    ("TSAI", "Ногоон цай 100 г", 3200, "VAT", "865000300301", "2391400"),
    ("KOLA", "Кока-Кола 1.25 л", 3500, "VAT", "865000300302", "2441000"),
    ("US-05", "Ундны ус 0.5 л", 1000, "VAT", "865000300303", "2441100"),
    ("SHUUS", "Жимсний шүүс 1 л", 5500, "VAT", "865000300304", "2132000"),
    ("SHOKOLAD", "Шоколад 90 г", 4800, "VAT", "865000400401", "2367000"),
    ("CHIPS", "Төмсний чипс 70 г", 3300, "VAT", "865000400402", "2131300"),
    ("BUUZ", "Бууз, хөлдөөсөн 1 кг", 16000, "VAT", "865000400403", "2199000"),
    ("SAVAN", "Гар саван 100 г", 2500, "VAT", "865000500501", "3532100"),
    ("SHUDNII-OO", "Шүдний оо 100 мл", 5900, "VAT", "865000500502", "3532300"),
    ("SALFETKA", "Салфетка 100 ширхэг", 2900, "VAT", "865000500503", "3214300"),
    ("ARKHI", "Архи 0.5 л", 22000, "VAT_CITY", "865000600601", "2413000"),
    ("PIVO", "Шар айраг 0.5 л", 3900, "VAT_CITY", "865000600602", "2431000"),
    ("DARS", "Улаан дарс 0.75 л", 35000, "VAT_CITY", "865000600603", "2421000"),
    ("TAMKHI", "Тамхи 20 ширхэг", 6500, "VAT_CITY", "865000600604", "2502000"),
    ("ONDOG-10", "Өндөг 10 ширхэг", 5500, "FREE", "865000700701", "0293100"),
    ("GURIL", "Гурил, дээд зэрэг 2.5 кг", 7500, "FREE", "865000700702", "2311100"),
]

_WEIGHED = [
    # sku, name, price per kg, tax class, PLU (item code inside 21/22 barcodes), БҮНА
    ("UKHRIIN-MAKH", "Үхрийн мах /кг", 18000, "VAT", "10001", "2111100"),
    ("KHONINII-MAKH", "Хонины мах /кг", 16000, "VAT", "10002", "2111500"),
    ("ALIM", "Алим /кг", 7500, "VAT", "20001", "0134100"),
    ("TOMS", "Төмс /кг", 1800, "FREE", "20002", "0151000"),
]

_CATEGORIES = {"SUU-1L": "dairy", "TARAG": "dairy", "AARUUL": "dairy"}


def products() -> list[Product]:
    items = [
        Product(
            sku,
            name,
            price,
            tax,
            (gtin(body),),
            category=_CATEGORIES.get(sku, ""),
            classification=code,
        )
        for sku, name, price, tax, body, code in _ITEMS
    ]
    items += [
        Product(sku, name, price, tax, (), sold_by_weight=True, plu=plu, classification=code)
        for sku, name, price, tax, plu, code in _WEIGHED
    ]
    return items


def promotions(now: datetime) -> list[Promotion]:
    """A week of offers: dairy 10% off, a member price on bread."""
    start, end = now - timedelta(days=1), now + timedelta(days=7)
    return [
        Promotion(
            "SUU10",
            "Сүүн бүтээгдэхүүн 10%",
            start,
            end,
            categories=frozenset({"dairy"}),
            percent=Decimal(10),
        ),
        Promotion(
            "TALKH-GISHUUN",
            "Гишүүний үнэ",
            start,
            end,
            skus=frozenset({"TALKH"}),
            fixed_price=2500,
            members_only=True,
        ),
    ]
