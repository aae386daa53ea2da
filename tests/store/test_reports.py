"""Period totals over the encrypted store, checked against the sales that made them."""

from datetime import datetime, timedelta

from terminal.store.reports import period_totals


def test_period_totals_by_tender_tax_hour_and_cashier(terminal, clock):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("8991002101111")  # Rp 5.500, PPN
    pos.pay_cash(10000)
    clock.advance(3600)
    pos.scan("GULA-1KG")  # Rp 17.500, exempt
    pos.scan("NASI-GRG")  # Rp 25.000, PPN + PB1
    pos.pay_cash(50000)  # 42.500 -> cash 42.500
    pos.sign_out()
    pos.sign_in("2", "2580")
    pos.scan("8991002101111")
    pos.pay_cash(5500)
    day = datetime(2026, 11, 23)
    totals = period_totals(pos.db, day, day + timedelta(days=1))
    assert (totals.sales, totals.total) == (3, 53500)
    assert totals.by_tender == {"cash": 53500}
    assert totals.by_hour == {3: 5500, 4: 48000}  # UTC hours
    assert totals.by_cashier == {1: (2, 48000), 2: (1, 5500)}
    # PPN: 5500/1.11 -> 4955 + 545, twice; Nasi goreng 25000/1.21 -> 20661: PPN 2273, PB1 2066
    assert totals.by_tax == {
        ("PPN", "11"): (4955 * 2 + 20661, 545 * 2 + 2273),
        ("PB1", "10"): (20661, 2066),
    }
    assert period_totals(pos.db, day - timedelta(days=1), day).sales == 0
