"""A terminal's existing database (schema 2, as the secure-store issue left it) and its key
files of that time are brought to today's schema and key store at the next start, keeping
its sales, and it sells on with the new features."""

from __future__ import annotations

from terminal.core.numbering import return_code
from terminal.services.bootstrap import build_terminal
from terminal.store import schema
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.keystore import KEY_NAMES
from tests.conftest import open_reader, with_open_shift

NEW_TABLES = (
    "passkey",
    "shift",
    "refund",
    "refund_line",
    "refund_tender",
    "card_payment",
    "promotion",
)


OLD_NEXT_SEQ = """CREATE TRIGGER journal_next_seq BEFORE INSERT ON journal
    WHEN NEW.seq != (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
    BEGIN SELECT RAISE(ABORT, 'the journal only takes the next seq'); END"""


def as_legacy_key_store(terminal) -> None:
    """The key store as it was before protectors: one plain 32-byte file per key."""
    directory = terminal.keys.directory
    for name in KEY_NAMES:
        (directory / f"{name}.key").write_bytes(terminal.keys.key(name))
    (directory / "keystore.json").unlink()
    (directory / "file-protector.kek").unlink()


def as_schema_2(terminal) -> None:
    """Take schema 3's, 4's and 5's additions out of a database, as a version-2 terminal
    has it."""
    as_legacy_key_store(terminal)
    con = open_reader(terminal)
    for table, column, _kind in schema.ADDED_IN_5:
        con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    con.execute("DROP TABLE database_identity")
    con.execute("DROP TRIGGER journal_next_seq")
    con.execute("ALTER TABLE journal DROP COLUMN epoch")
    con.execute(OLD_NEXT_SEQ)
    for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%member_code%'"
    ).fetchall():
        con.execute(f'DROP INDEX "{name}"')
    for table, column, _kind in schema.ADDED_IN_3:
        con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    for table in NEW_TABLES:
        con.execute(f'DROP TABLE "{table}"')
    # the indexes version 2 had on the sale path
    con.execute('CREATE INDEX "salerow_cashier_id" ON "sale" ("cashier_id")')
    con.execute('CREATE UNIQUE INDEX "salerow_return_code" ON "sale" ("return_code")')
    con.execute('CREATE INDEX "salelinerow_sale_id" ON "sale_line" ("sale_id")')
    con.execute('CREATE INDEX "saletaxrow_sale_id" ON "sale_tax" ("sale_id")')
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()


def test_a_version_2_database_is_upgraded_and_sells_on(terminal, settings, clock):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.pay_cash(20000)
    pos.db.close()
    as_schema_2(terminal)
    con = open_reader(terminal)
    assert "reprints" not in {r[1] for r in con.execute("PRAGMA table_info(sale)")}
    con.close()

    again = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    con = open_reader(again)
    assert con.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION == 6
    assert "epoch" in {r[1] for r in con.execute("PRAGMA table_info(journal)")}
    assert con.execute("SELECT COUNT(*) FROM database_identity").fetchone()[0] == 1
    for table, column, _kind in schema.ADDED_IN_3 + schema.ADDED_IN_5:
        assert column in {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}, column
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert not indexes & set(schema.REDUNDANT_INDEXES)  # fewer pages written per sale
    con.close()
    pos = again.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    assert pos.pay_cash(20000).committed.number == 2  # numbering carries on
    old = pos.refunds.find("T01-000001")
    assert old.refundable == 17500  # the old sale can be refunded
    assert pos.refunds.find(return_code("T01", 1)).id == old.id  # and found by its code
    assert pos.journal.verify().ok
    # the key files were wrapped into the key store, which now remembers this database
    directory = again.keys.directory
    assert not any((directory / f"{name}.key").exists() for name in KEY_NAMES)
    assert again.keys.memory["database_id"]
    assert again.keys.key("pin_pepper") == terminal.keys.key("pin_pepper")
