"""The shop's configuration changes while the terminal runs: a new version is applied
atomically, journaled, and seen by every part of the terminal, never by an open sale."""

from __future__ import annotations

import copy
import json

import pytest

from hal.printer.preview import interpret
from terminal.core.errors import ConfigError
from terminal.services.bootstrap import build_terminal
from terminal.store import shop_config
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries

COFFEE = "KOPI-KPL"  # Kopi Kapal Api 165 g: Rp 14.500, PPN 11% (prices include tax)


def new_prices(settings, *, ppn="12", coffee=15000, **store):
    """The shop document in force, with PPN at ``ppn`` % and the coffee at ``coffee``."""
    document = copy.deepcopy(settings.shop_document)
    document["taxes"]["PPN"]["rates"][0]["rate"] = ppn
    document["store"].update(store)
    document["products"] = [
        {
            "sku": COFFEE,
            "name": "Kopi Kapal Api 165 g",
            "price": coffee,
            "tax_class": "PPN",
            "barcodes": ["8994001001659"],
        }
    ]
    return document


def config_changes(pos):
    return [e["payload"] for e in read_entries(pos.db, types=("config_change",))]


def receipt(pos):
    return "\n".join(interpret(pos.printer.jobs[-1][1]).lines)


def test_a_price_and_a_tax_rate_changed_mid_sale_apply_to_the_next_sale(
    terminal, settings, no_rounding
):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan(COFFEE)  # the open sale: old price, old rate
    outcome = pos.apply_shop_config(new_prices(settings), "fleet: group jakarta")
    assert not outcome.applied and config_changes(pos) == []  # waiting for the sale
    paid = pos.pay_cash(20000).committed.sale
    assert (paid.total, paid.taxes.tax) == (14500, 1437)  # 14,500 - round(14,500 / 1.11)
    assert "PPN 11%" in receipt(pos)

    (change,) = config_changes(pos)  # applied as the sale ended
    assert change["version"] == 2 and change["source"] == "fleet: group jakarta"
    assert change["products"] == 1 and "taxes" in change["sections"]
    pos.scan(COFFEE)
    paid = pos.pay_cash(20000).committed.sale
    assert (paid.total, paid.taxes.tax) == (15000, 1607)  # 15,000 - round(15,000 / 1.12)
    assert "PPN 12%" in receipt(pos)


def test_with_no_sale_open_it_applies_at_once_and_every_part_sees_it(terminal, settings):
    pos = terminal.pos
    pos.sign_in("1", "1357")  # a cashier at the till, between two sales
    document = new_prices(settings, name="Toko Baru", receipt_footer=["Sampai jumpa"])
    document["approval"]["cashier_discount_percent"] = 20
    document["loyalty"]["earn_per"] = 5000
    outcome = pos.apply_shop_config(document, "pos-terminal config apply")
    assert outcome.applied and outcome.version == 2
    assert pos.settings.store.name == "Toko Baru"
    assert pos.approvals.settings.approval.cashier_discount_percent == 20  # the approvals
    assert pos.guard.settings is pos.settings  # the PIN guard
    assert pos.settings.loyalty.earn_per == 5000  # loyalty
    assert pos.catalogue.lookup(COFFEE).product.price == 15000  # the catalogue
    pos.scan(COFFEE)
    # the first sale after it: the new price from its first line (the empty cart that
    # was waiting when the configuration came takes the new catalogue too)
    assert pos.pay_cash(20000).committed.sale.total == 15000
    text = receipt(pos)
    assert "Toko Baru" in text and "Sampai jumpa" in text  # the receipt texts


def test_the_configuration_in_force_survives_a_restart(terminal, settings, clock):
    terminal.pos.apply_shop_config(new_prices(settings, coffee=16000), "fleet")
    terminal.pos.db.close()
    again = build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert shop_config.current(again.pos.db).version == 2
    assert again.pos.settings.tax_classes["PPN"].taxes[0].rate == 12
    again.pos.sign_in("1", "1357")
    again.pos.scan(COFFEE)
    assert again.pos.pay_cash(20000).committed.sale.total == 16000
    start = [e for e in read_entries(again.pos.db, types=("start",))][-1]
    assert start["payload"]["shop_config"] == 2  # each start names the version in force


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d["store"].update(curency="IDR"), "store.curency: unknown key"),
        (lambda d: d["taxes"]["PPN"]["rates"][0].update(rate="110"), "percentage from 0 to 100"),
        (lambda d: d["products"][0].update(tax_class="VAT"), "products.0.|'VAT' is not one"),
        (lambda d: d["products"][0].update(price=-5), r"products\[0\].price: must be 0 or more"),
        (lambda d: d.update(products="sugar"), "products: expected a list"),
        (lambda d: d["store"].pop("name"), "store.name: missing"),
        (lambda d: d["products"][0].update(barcodes=["8994001001658"]), "bad check digit"),
        (lambda d: d["taxes"].pop("EXEMPT"), "unknown tax class 'EXEMPT'"),
    ],
)
def test_a_bad_configuration_is_refused_and_changes_nothing(terminal, settings, spoil, message):
    pos = terminal.pos
    document = new_prices(settings)
    spoil(document)
    before = json.dumps(shop_config.current(pos.db).document, sort_keys=True)
    with pytest.raises(ConfigError, match=message):
        pos.apply_shop_config(document, "fleet")
    assert shop_config.current(pos.db).version == 1
    assert json.dumps(shop_config.current(pos.db).document, sort_keys=True) == before
    assert config_changes(pos) == [] and pos.pending_config is None
    assert pos.catalogue.lookup(COFFEE).product.price == 14500
