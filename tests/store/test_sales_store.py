import pytest

from terminal.core.errors import PosError
from terminal.store.models import CounterRow, SaleLineRow, SaleRow
from tests.conftest import open_reader


def sell(pos, codes, tendered):
    pos.sign_in("1", "1357")
    for code in codes:
        pos.scan(code)
    return pos.pay_cash(tendered)


def test_pragmas_wal_and_full_sync(terminal):
    db = terminal.pos.db
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_sale_rows_as_committed(terminal, settings):
    outcome = sell(terminal.pos, ["8991002101111", "8991002101111", "GULA-1KG"], 50000)
    # read back through another connection, as a report would
    con = open_reader(terminal)
    sale = con.execute(
        "SELECT terminal_id, number, total, rounding, return_code FROM sale"
    ).fetchall()
    assert sale == [("T01", 1, 28500, 0, outcome.committed.return_code)]
    lines = con.execute(
        "SELECT position, sku, quantity_milli, unit_price, amount FROM sale_line ORDER BY position"
    ).fetchall()
    assert lines == [
        (1, "TEH-BTL", 1000, 5500, 5500),
        (2, "TEH-BTL", 1000, 5500, 5500),
        (3, "GULA-1KG", 1000, 17500, 17500),
    ]
    assert con.execute("SELECT kind, amount, tendered, change FROM tender").fetchall() == [
        ("cash", 28500, 50000, 21500)
    ]
    # PPN on the two teas: 11000 / 1.11 = 9909.9 -> base 9910, tax 1090; sugar is exempt
    assert con.execute("SELECT code, base, amount FROM sale_tax").fetchall() == [
        ("PPN", 9910, 1090)
    ]


def test_numbers_are_gapless_even_when_a_sale_fails(terminal):
    pos = terminal.pos
    db = pos.db
    assert sell(pos, ["GULA-1KG"], 17500).committed.number == 1

    # the last insert of the transaction fails inside SQLite, after the number was taken
    db.execute_sql(
        "CREATE TEMP TRIGGER fail BEFORE INSERT ON tender"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    pos.scan("GULA-1KG")
    with pytest.raises(PosError, match=r"The sale was NOT saved .*disk full"):
        pos.pay_cash(17500)
    db.execute_sql("DROP TRIGGER fail")
    assert CounterRow.select().where(CounterRow.terminal_id == "T01").get(db).last_number == 1
    assert SaleRow.select().count(db) == 1 and SaleLineRow.select().count(db) == 1
    assert not pos.cart.is_empty  # nothing lost: the cashier can take the cash again
    assert pos.drawer.pulses and len(pos.drawer.pulses) == 1  # no drawer for the failed sale
    assert pos.pay_cash(17500).committed.number == 2
    assert [s.number for s in SaleRow.select().order_by(SaleRow.number).bind(db)] == [1, 2]
