from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from terminal.core.barcodes import WeighedFormat
from terminal.core.catalogue import Catalogue, Product
from terminal.core.clock import ManualClock
from terminal.core.taxes import Tax, TaxClass


@pytest.fixture
def catalogue() -> Catalogue:
    ppn = TaxClass("PPN", "PPN 11%", (Tax("PPN", "PPN", D("11")),))
    exempt = TaxClass("EXEMPT", "Exempt", ())
    return Catalogue(
        [
            Product("TEH-01", "Teh Botol 450ml", 5500, "PPN", ("8991002101111",)),
            Product("INDOMIE", "Indomie Goreng", 3500, "PPN", ("089686010947", "12345670")),
            Product("BERAS-5", "Beras 5 kg", 72000, "EXEMPT", ("73513537",)),
            Product("APEL", "Apel Fuji /kg", 42000, "EXEMPT", (), sold_by_weight=True, plu="12345"),
            Product("KUE", "Kue lapis", 15000, "PPN", (), sold_by_weight=True, plu="00042"),
        ],
        {"PPN": ppn, "EXEMPT": exempt},
        [WeighedFormat("21", "price"), WeighedFormat("22", "weight")],
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
