"""A seeded online shop for ``make run-online`` (seed 001's flow on one machine).

- the warehouse (``[orders] warehouses``' first) receives the demo goods (the terminal's
  own demo catalogue, :func:`terminal.services.demo.demo_products`, not the weighed ones);
- the CS desk's store had a few items brought earlier: drop orders asked and handed over
  by scanning, through the same functions the desk and the warehouse page use;
- a few drop orders are waiting, so the warehouse page has something to hand over.

:func:`bank_statement` is the demo's bank: a KlikBCA CSV export (read by
:mod:`fleet.orders.bank_exports`) with a credit for every booking open now, of the exact
amount due, the payer's name in the description, beside a few transfers that pay nobody,
for finance to upload on the payments page. Deterministic for a seed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

import peewee

from fleet.models import DropOrder, OnlineStock
from fleet.orders import desk as orders
from terminal.core.sealing import Sealer
from terminal.services.demo import demo_products

ACTOR = "demo"
AT_DESK = ("TEH-BTL", "AQUA-600", "KOPI-KPL", "SILVERQ", "SAMPO-CLR")
WAITING = ("SABUN-LFB", "PASTA-PSD", "BERAS-5KG")
KITCHEN = ("NASI-GRG", "MIE-AYAM", "ES-TEH")  # cooked at the shop: not shipped


def seed(db: peewee.Database, *, desk: str, warehouse: str, at: datetime, seed: int = 1) -> int:
    """Fill an empty online shop; refuses a fleet database that holds stock already.
    Returns how many products the warehouse received."""
    if OnlineStock.select().bind(db).exists():
        raise ValueError("this fleet database holds online stock already")
    rng = Random(seed)
    products = [p for p in demo_products() if not p.sold_by_weight and p.sku not in KITCHEN]
    skus = {p.sku for p in products}
    for product in products:
        orders.receive(db, product.sku, warehouse, rng.randint(6, 40), at, ACTOR)
    at_desk = [sku for sku in AT_DESK if sku in skus] or [p.sku for p in products[:5]]
    for sku in at_desk:
        for _unit in range(2):
            drop = orders.request_drop(db, desk, warehouse, sku, at, "cs.demo")
            orders.hand_over(db, drop, sku, at + timedelta(minutes=5), "gudang.demo")
    waiting = [sku for sku in WAITING if sku in skus] or [p.sku for p in products[5:8]]
    for n, sku in enumerate(waiting):
        orders.request_drop(db, desk, warehouse, sku, at + timedelta(minutes=10 + n), "cs.demo")
    return len(products)


def bank_statement(
    db: peewee.Database, sealer: Sealer, *, account: str, now: datetime, tz: ZoneInfo
) -> str:
    """A KlikBCA statement of today (the layout of ``tests/fleet/data/statements/
    bca_klikbca.csv``) paying every booking open now (see the module)."""
    local = now.astimezone(tz)
    day, ddmm = local.strftime("%d/%m/%Y"), local.strftime("%d/%m")
    rows = []
    for n, booking in enumerate(orders.open_bookings(db)):
        name = orders.customer_of(sealer, booking).name.upper()
        ref = f"TRSF E-BANKING CR {local:%d%m}/FTSCY/WS{95031 + n} {booking.due}.00 {name}"
        rows.append((ref, booking.due))
    rows += [
        (f"TRSF E-BANKING CR {local:%d%m}/FTSCY/WS96001 1250000.00 PT SUMBER MAKMUR", 1_250_000),
        ("SETORAN TUNAI KAS TOKO", 3_400_000),
    ]
    opening = balance = 25_000_000
    lines = [
        f"No. rekening,=,'{account}",
        "Nama,=,TOKO DEMO SEJAHTERA",
        f"Periode,=,{day} - {day}",
        "Kode Mata Uang,=,Rp",
        ",",
        "Tanggal Transaksi,Keterangan,Cabang,Jumlah,,Saldo",
    ]
    for text, amount in rows:
        balance += amount
        lines.append(f'\'{ddmm},{text},\'0000,"{amount:,.2f}",CR,"{balance:,.2f}"')
    lines += [
        ",",
        f'Saldo Awal,=,"{opening:,.2f}"',
        f'Mutasi Kredit,=,"{balance - opening:,.2f}",{len(rows)}',
        'Mutasi Debet,=,"0.00",0',
        f'Saldo Akhir,=,"{balance:,.2f}"',
    ]
    return "\n".join(lines) + "\n"


def waiting_drops(db: peewee.Database) -> int:
    return DropOrder.select().where(DropOrder.state == "requested").bind(db).count()
