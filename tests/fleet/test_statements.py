"""Bank statements read and matched to book orders: a generic CSV with its column
mapping, every broken row named, the same line never paying twice, names deciding
between bookings of the same amount."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fleet.orders.matching import (
    AMBIGUOUS,
    BY_NAME,
    DEBIT,
    MATCHED,
    UNMATCHED,
    USED,
    OpenBooking,
    match,
)
from fleet.orders.statements import ColumnMapping, StatementError, payer_words, read_csv

JAKARTA = ZoneInfo("Asia/Jakarta")
# a bank's export: an account block above the header, amounts with a CR/DB marker
ONE_COLUMN = ColumnMapping(
    date="Tanggal",
    description="Keterangan",
    amount="Jumlah",
    header_row=4,
    decimal_sep=".",
    thousands_sep=",",
)
STATEMENT = """No. rekening,1234567890
Nama,TOKO DEMO SEJAHTERA
,
Tanggal,Keterangan,Jumlah,Saldo
'27/11/2026,TRSF E-BANKING CR 2711/FTSCY/WS95031 150123.00 BUDI SANTOSO,"150,123.00 CR",
'27/11/2026,BIAYA ADM,"10,000.00 DB","1,140,123.00"
PEND,TRSF E-BANKING CR DEWI LESTARI,"80,456.00 CR",
'28/11/2026,TRSF E-BANKING CR 2811/FTSCY/WS95032 80456.00 DEWI LESTARI,"80,456.00 CR","1,220,579.00"
'28/11/2026,TRSF E-BANKING CR 2811/FTSCY/WS95033 80456.00 DEWI LESTARI,"80,456.00 CR","1,301,035.00"
"""
TWO_COLUMNS = ColumnMapping(
    date="Tgl.",
    description="Rincian Transaksi",
    credit="Kredit",
    debit="Debit",
    date_format="%d/%m/%Y",
    decimal_sep=",",
    thousands_sep=".",
)


def test_a_statement_with_a_cr_db_column_reads_into_signed_lines():
    lines = read_csv(STATEMENT.encode(), ONE_COLUMN)
    assert [(ln.line_no, ln.booked_on, ln.amount) for ln in lines] == [
        (5, date(2026, 11, 27), 150_123),
        (6, date(2026, 11, 27), -10_000),
        (8, date(2026, 11, 28), 80_456),  # the pending row is left out
        (9, date(2026, 11, 28), 80_456),
    ]
    # two identical transfers of one day: two lines, two keys
    assert len({ln.key for ln in lines}) == 4


def test_credit_and_debit_columns():
    text = (
        "Tgl.,Rincian Transaksi,Debit,Kredit\n"
        '01/12/2026,SETORAN A,,"1.500,00"\n'
        '02/12/2026,BIAYA,"2.500,00",\n'
    )
    lines = read_csv(text, TWO_COLUMNS)
    assert [ln.amount for ln in lines] == [1500, -2500]


def test_every_broken_row_is_named_with_its_line_number_and_nothing_is_returned():
    broken = STATEMENT.replace(
        "'28/11/2026,TRSF E-BANKING CR 2811/FTSCY/WS95032", "'31/02/2026,X", 1
    )
    broken = broken.replace('"10,000.00 DB"', '"ten DB"')
    with pytest.raises(StatementError) as err:
        read_csv(broken, ONE_COLUMN)
    assert [(e.line_no, e.column) for e in err.value.errors] == [(6, "Jumlah"), (8, "Tanggal")]
    assert "line 6, Jumlah: 'ten DB' is not an amount" in str(err.value)


def test_a_mapping_naming_a_missing_column_says_which_columns_there_are():
    with pytest.raises(StatementError, match="Kredit: no such column; the columns are Tanggal"):
        read_csv(
            STATEMENT,
            ColumnMapping(date="Tanggal", description="Keterangan", credit="Kredit", header_row=4),
        )


def test_the_payers_name_is_what_remains_of_a_description():
    assert payer_words("TRSF E-BANKING CR 2711/FTSCY/WS95031 150123.00 BUDI SANTOSO") == (
        "BUDI SANTOSO"
    )


def booking(order, due, name, day=27, hours=24):
    booked = datetime(2026, 11, day, 10, tzinfo=JAKARTA)
    return OpenBooking(order, due, name, booked, booked + timedelta(hours=hours))


def test_exact_amounts_match_and_one_line_never_pays_two_bookings():
    lines = read_csv(STATEMENT, ONE_COLUMN)
    bookings = [booking("B1", 150_123, "Budi Santoso"), booking("B2", 80_456, "Dewi Lestari", 28)]
    result = match(lines, bookings)
    assert [(p.line.line_no, p.outcome, p.booking and p.booking.order) for p in result] == [
        (5, MATCHED, "B1"),
        (6, DEBIT, None),
        (8, MATCHED, "B2"),
        (9, UNMATCHED, None),  # she paid twice: the second goes to a person
    ]


def test_the_same_lines_uploaded_again_never_match_twice():
    lines = read_csv(STATEMENT, ONE_COLUMN)
    first = match(lines, [booking("B1", 150_123, "Budi Santoso")])
    used = {p.line.key for p in first if p.booking}
    again = match(read_csv(STATEMENT, ONE_COLUMN), [booking("B9", 150_123, "Budi Santoso")], used)
    assert again[0].outcome == USED and again[0].booking is None


def test_a_payment_outside_the_bookings_window_does_not_match():
    lines = read_csv(STATEMENT, ONE_COLUMN)
    late = booking("B1", 150_123, "Budi Santoso", day=20, hours=24)  # due by the 21st
    assert match(lines, [late])[0].outcome == UNMATCHED


def test_bookings_of_the_same_amount_are_told_apart_by_the_payers_name_or_left_to_a_person():
    lines = read_csv(STATEMENT, ONE_COLUMN)[:1]
    budi, siti = booking("B1", 150_123, "Budi Santoso"), booking("B2", 150_123, "Siti Aminah")
    result = match(lines, [siti, budi])
    assert (result[0].outcome, result[0].booking.order) == (BY_NAME, "B1")
    twins = [booking("B1", 150_123, "Budi Santoso"), booking("B2", 150_123, "Budi Santosa")]
    result = match(lines, twins)
    assert result[0].outcome == AMBIGUOUS and {b.order for b in result[0].candidates} == {
        "B1",
        "B2",
    }
