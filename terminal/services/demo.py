"""The demo store `make run` starts with: an Indonesian minimarket.

Barcodes use GS1 Indonesia's 899 prefix with made-up company and item numbers; the
check digits are computed, so every code scans as a valid EAN-13/EAN-8/UPC-A.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from terminal.core.barcodes import gs1_check_digit
from terminal.core.catalogue import Product
from terminal.core.pricing import Promotion

DEMO_CASHIER = (1, "Sari", "cashier", "1357")
DEMO_SUPERVISOR = (2, "Budi", "supervisor", "2580")
# name, phone, address, member card barcode
DEMO_MEMBER = ("Dewi Lestari", "0812-3456-7890", "Jl. Melati 5, Jakarta", "MBR0001")
# the category passkeys of the demo store (used when [approval] mode = "passkey")
DEMO_PASSKEYS = {
    "unpaid_orders": "314159",
    "paid_orders": "271828",
    "discounts": "161803",
    "customers": "141421",
}


def gtin(body: str) -> str:
    """Append the GS1 check digit to a 7-, 11- or 12-digit body."""
    return body + str(gs1_check_digit(body))


_ITEMS = [
    # sku, name, price (Rp), tax class, barcode body
    ("AQUA-600", "Aqua 600 ml", 3500, "PPN", "899399200001"),
    ("AQUA-1500", "Aqua 1,5 L", 6500, "PPN", "899399200002"),
    ("TEH-BTL", "Teh Botol Sosro 450 ml", 5500, "PPN", "899100210111"),
    ("TEH-PUCUK", "Teh Pucuk Harum 350 ml", 4000, "PPN", "899699900350"),
    ("KOPI-KPL", "Kopi Kapal Api 165 g", 14500, "PPN", "899400100165"),
    ("KOPI-ABC", "Kopi ABC Susu 10x31 g", 15900, "PPN", "899200100310"),
    ("INDOMIE-G", "Indomie Goreng", 3500, "PPN", "899696010947"),
    ("INDOMIE-S", "Indomie Soto", 3300, "PPN", "899696010948"),
    ("SEDAAP-G", "Mie Sedaap Goreng", 3400, "PPN", "899897700101"),
    ("SUSU-UHT", "Susu UHT Ultra 250 ml", 6800, "PPN", "899800100250"),
    ("ROTI-TWR", "Roti Tawar Sari Roti", 16500, "PPN", "899500100400"),
    ("CHITATO", "Chitato Sapi Panggang 68 g", 11200, "PPN", "899696010068"),
    ("TAO-KAE", "Tao Kae Noi 36 g", 12000, "PPN", "885012300036"),
    ("SILVERQ", "Silverqueen Almond 62 g", 17900, "PPN", "899100200620"),
    ("SABUN-LFB", "Sabun Lifebuoy 110 g", 4700, "PPN", "899999900110"),
    ("SAMPO-CLR", "Sampo Clear 160 ml", 27500, "PPN", "899999900160"),
    ("PASTA-PSD", "Pepsodent 190 g", 14200, "PPN", "899999900190"),
    ("DETERJEN", "Rinso Cair 750 ml", 22900, "PPN", "899999900750"),
    ("TISU-PSO", "Tisu Paseo 250 lembar", 13500, "PPN", "899300100250"),
    ("BATERAI-AA", "Baterai ABC AA 2 pcs", 9000, "PPN", "899100900002"),
    ("GULA-1KG", "Gula Pasir Gulaku 1 kg", 17500, "EXEMPT", "899300300001"),
    ("BERAS-5KG", "Beras Pandan Wangi 5 kg", 78000, "EXEMPT", "899300300005"),
    ("TELUR-10", "Telur Ayam 10 butir", 28000, "EXEMPT", "899300300010"),
    ("MINYAK-2L", "Minyak Goreng Bimoli 2 L", 38500, "PPN", "899300300200"),
    ("GARAM", "Garam Dapur 250 g", 3000, "EXEMPT", "899300300250"),
    ("NASI-GRG", "Nasi Goreng (dapur)", 25000, "PPN_PB1", "200000000101"),
    ("MIE-AYAM", "Mie Ayam (dapur)", 20000, "PPN_PB1", "200000000102"),
    ("ES-TEH", "Es Teh Manis (dapur)", 6000, "PPN_PB1", "200000000103"),
]

_SHORT = [
    # EAN-8 and UPC-A items: small packs and imports
    ("PERMEN-KIS", "Permen Kis Mint", 2000, "PPN", "8990001"),
    ("COKLAT-IMP", "Hershey's Milk Chocolate 43 g", 24500, "PPN", "03400000024"),
]

_WEIGHED = [
    # sku, name, price per kg, tax class, PLU (item code inside 21/22 barcodes)
    ("APEL-FUJI", "Apel Fuji /kg", 42000, "EXEMPT", "10001"),
    ("JERUK", "Jeruk Medan /kg", 28000, "EXEMPT", "10002"),
    ("DAGING-SPI", "Daging Sapi /kg", 135000, "EXEMPT", "20001"),
    ("KUE-LAPIS", "Kue Lapis /kg", 90000, "PPN", "30001"),
]


# the kitchen's own short codes, typed by the cashier: internal codes, no check digit
_MENU_CODES = {"NASI-GRG": ("D01",), "MIE-AYAM": ("D02",), "ES-TEH": ("D03",)}

_CATEGORIES = {"INDOMIE-G": "noodles", "INDOMIE-S": "noodles", "SEDAAP-G": "noodles"}


def demo_promotions(now: datetime) -> list[Promotion]:
    """A running week of offers: noodles 10% off, a member price on tea, Gold-tier coffee."""
    start, end = now - timedelta(days=1), now + timedelta(days=7)
    return [
        Promotion(
            "NOODLE10",
            "Promo mi instan 10%",
            start,
            end,
            categories=frozenset({"noodles"}),
            percent=Decimal(10),
        ),
        Promotion(
            "TEH-MEMBER",
            "Harga member",
            start,
            end,
            skus=frozenset({"TEH-BTL"}),
            fixed_price=5000,
            members_only=True,
        ),
        Promotion(
            "KOPI-GOLD",
            "Gold: kopi 20%",
            start,
            end,
            skus=frozenset({"KOPI-KPL", "KOPI-ABC"}),
            percent=Decimal(20),
            members_only=True,
            min_tier=2,
        ),
    ]


def demo_products() -> list[Product]:
    products = [
        Product(
            sku,
            name,
            price,
            tax,
            (gtin(body), *_MENU_CODES.get(sku, ())),
            category=_CATEGORIES.get(sku, ""),
        )
        for sku, name, price, tax, body in _ITEMS + _SHORT
    ]
    products += [
        Product(sku, name, price, tax, (), sold_by_weight=True, plu=plu)
        for sku, name, price, tax, plu in _WEIGHED
    ]
    return products


def weighed_barcode(prefix: str, plu: str, value: int) -> str:
    """A scale label barcode: prefix, PLU, 5-digit value (grams or price), check digit."""
    return gtin(f"{prefix}{plu}{value:05d}")
