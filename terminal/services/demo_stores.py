"""The three demo stores (README "Demo stores"), chosen by the shop's currency.

Why the currency and not a setting of its own: a demo's products name the tax classes of
its store file, and its prices are in that store's minor units; the currency is what
tells the three stores apart already, so a second key that had to agree with it would
only be a way to get them out of step (Indonesian products priced in fen).

Every store keeps cashier 1 (PIN 1357) and supervisor 2 (PIN 2580), with local names:
the README and the scripted demo rely on those numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from terminal.core.catalogue import Product
from terminal.core.pricing import Promotion
from terminal.services import demo, demo_cn, demo_mn

Person = tuple[int, str, str, str]  # number, name, role, PIN


@dataclass(frozen=True)
class DemoStore:
    """One demo store: what seeds its database, and what its scripted sale does."""

    currency: str
    cashier: Person
    supervisor: Person
    member: tuple[str, str, str, str]  # name, phone, address, member card barcode
    products: Callable[[], list[Product]]
    promotions: Callable[[datetime], list[Promotion]]
    # the scripted sale (terminal/ui/demo.py): the opening float and the cash tendered,
    # as typed (major units); a word to search for; an item scanned twice (one of them is
    # refunded); the PLU weighed on the scale's label
    opening_float: str
    tendered: str
    search: str
    scanned_sku: str
    weighed_plu: str

    def product(self, sku: str) -> Product:
        return next(p for p in self.products() if p.sku == sku)


INDONESIA = DemoStore(
    "IDR",
    demo.DEMO_CASHIER,
    demo.DEMO_SUPERVISOR,
    demo.DEMO_MEMBER,
    demo.demo_products,
    demo.demo_promotions,
    opening_float="500000",
    tendered="100000",
    search="indomie",
    scanned_sku="TEH-BTL",
    weighed_plu="10001",
)
MONGOLIA = DemoStore(
    "MNT",
    demo_mn.CASHIER,
    demo_mn.SUPERVISOR,
    demo_mn.MEMBER,
    demo_mn.products,
    demo_mn.promotions,
    opening_float="200000",
    tendered="50000",
    search="тараг",
    scanned_sku="KOLA",
    weighed_plu="10001",
)
CHINA = DemoStore(
    "CNY",
    demo_cn.CASHIER,
    demo_cn.SUPERVISOR,
    demo_cn.MEMBER,
    demo_cn.products,
    demo_cn.promotions,
    opening_float="500",
    tendered="100",
    search="牛肉面",
    scanned_sku="HONGCHA",
    weighed_plu="10001",
)
DEMO_STORES = {store.currency: store for store in (INDONESIA, MONGOLIA, CHINA)}


def demo_store(currency_code: str) -> DemoStore:
    """The demo store of a shop in this currency (the Indonesian one for any other)."""
    return DEMO_STORES.get(currency_code, INDONESIA)
