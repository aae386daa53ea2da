"""The Chinese demo store (``make run STORE=cn``): a convenience store in Shanghai.

Prices in fen (0.01 yuan), VAT included. Tax classes of ``config/stores/cn.toml``:
``VAT13`` (增值税 13%, most goods) and ``VAT9`` (增值税 9%: farm produce, grain, edible
oil, fresh milk, salt, books and newspapers). Barcodes use GS1 China's 690-699 prefixes
with made-up company and item numbers and computed check digits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from terminal.core.catalogue import Product
from terminal.core.pricing import Promotion
from terminal.services.demo import gtin

CASHIER = (1, "王芳", "cashier", "1357")
SUPERVISOR = (2, "李强", "supervisor", "2580")
MEMBER = ("张伟", "138-0013-8000", "上海市静安区延安中路 100 弄 5 号", "MBR0001")

_ITEMS = [
    # sku, name, price (fen), tax class, barcode body
    ("KELE-330", "可口可乐 330毫升", 300, "VAT13", "690123400101"),
    ("SHUI-550", "饮用天然水 550毫升", 200, "VAT13", "690123400102"),
    ("HONGCHA", "冰红茶 500毫升", 350, "VAT13", "690123400103"),
    ("KAFEI", "速溶咖啡 15条", 3200, "VAT13", "690123400104"),
    ("PIJIU", "啤酒 500毫升", 400, "VAT13", "690123400105"),
    ("BAIJIU", "二锅头 500毫升", 1800, "VAT13", "690123400106"),
    ("MIAN-NR", "红烧牛肉面", 450, "VAT13", "692345600201"),
    ("MIAN-SC", "酸菜牛肉面", 450, "VAT13", "692345600202"),
    ("SHUPIAN", "薯片 原味 70克", 750, "VAT13", "692345600203"),
    ("QIAOKELI", "牛奶巧克力 43克", 690, "VAT13", "692345600204"),
    ("BINGGAN", "苏打饼干 400克", 1280, "VAT13", "692345600205"),
    ("SUANNAI", "酸奶 200克", 550, "VAT13", "692345600206"),
    ("HEFAN", "盒饭 鱼香肉丝", 1800, "VAT13", "692345600207"),
    ("XIFASHUI", "洗发水 400毫升", 2990, "VAT13", "695432100301"),
    ("YAGAO", "牙膏 120克", 1250, "VAT13", "695432100302"),
    ("ZHIJIN", "抽纸 3包", 990, "VAT13", "695432100303"),
    ("DIANCHI", "5号电池 4节", 1100, "VAT13", "695432100304"),
    ("NIUNAI", "纯牛奶 250毫升", 350, "VAT9", "697654300401"),
    ("DAMI", "东北大米 5公斤", 3990, "VAT9", "697654300402"),
    ("JIDAN", "鸡蛋 10枚", 1380, "VAT9", "697654300403"),
    ("HUASHENGYOU", "花生油 1.8升", 3590, "VAT9", "697654300404"),
    ("YAN", "食用盐 400克", 250, "VAT9", "697654300405"),
    ("BAOZHI", "新民晚报", 100, "VAT9", "697654300406"),
    ("TANGSHI", "唐诗三百首", 2500, "VAT9", "697654300407"),
]

_WEIGHED = [
    # sku, name, price per kg (fen), tax class, PLU (item code inside 21/22 barcodes)
    ("PINGGUO", "苹果 /公斤", 1280, "VAT9", "10001"),
    ("XIANGJIAO", "香蕉 /公斤", 698, "VAT9", "10002"),
    ("ZHUROU", "猪肉 /公斤", 2600, "VAT9", "20001"),
    ("MANTOU", "馒头 /公斤", 1200, "VAT13", "30001"),
]

_CATEGORIES = {"MIAN-NR": "noodles", "MIAN-SC": "noodles"}


def products() -> list[Product]:
    items = [
        Product(sku, name, price, tax, (gtin(body),), category=_CATEGORIES.get(sku, ""))
        for sku, name, price, tax, body in _ITEMS
    ]
    items += [
        Product(sku, name, price, tax, (), sold_by_weight=True, plu=plu)
        for sku, name, price, tax, plu in _WEIGHED
    ]
    return items


def promotions(now: datetime) -> list[Promotion]:
    """A week of offers: instant noodles 10% off, a member price on milk."""
    start, end = now - timedelta(days=1), now + timedelta(days=7)
    return [
        Promotion(
            "MIAN10",
            "方便面九折",
            start,
            end,
            categories=frozenset({"noodles"}),
            percent=Decimal(10),
        ),
        Promotion(
            "NIUNAI-HUIYUAN",
            "会员价",
            start,
            end,
            skus=frozenset({"NIUNAI"}),
            fixed_price=300,
            members_only=True,
        ),
    ]
