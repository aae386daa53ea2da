"""The banks' statement formats read into lines: each sample in ``data/statements`` to
its lines (dates, amounts, credit or debit, descriptions), keys that agree between two
overlapping exports, every broken row named where a person finds it (a CSV's line, an
Excel sheet's row, an MT940 :61: line, a CAMT entry's index and reference), and a file
of another format, or an empty one, refused with a clear message."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fleet.orders.bank_formats import FORMATS, read_statement
from fleet.orders.statements import ColumnMapping, StatementError

DATA = Path(__file__).parent / "data" / "statements"
D27, D28 = date(2026, 11, 27), date(2026, 11, 28)


def read(name: str, fmt: str, mapping: ColumnMapping | None = None):
    return read_statement((DATA / name).read_bytes(), fmt, mapping, name)


def rows(lines):
    return [(ln.line_no, ln.booked_on, ln.amount, ln.description) for ln in lines]


def refusal(data: bytes, fmt: str, mapping: ColumnMapping | None = None) -> list[str]:
    with pytest.raises(StatementError) as caught:
        read_statement(data, fmt, mapping, "upload")
    return [str(e) for e in caught.value.errors]


def test_a_klikbca_csv_reads_with_the_year_from_its_period_and_without_pending_rows():
    assert rows(read("bca_klikbca.csv", "bca")) == [
        (7, D27, 150_123, "TRSF E-BANKING CR 2711/FTSCY/WS95031 150123.00 BUDI SANTOSO"),
        (8, D27, -10_000, "BIAYA ADM"),
        (9, D28, 80_456, "TRSF E-BANKING CR 2811/FTSCY/WS95032 80456.00 DEWI LESTARI"),
        (10, D28, 150_789, "SWITCHING CR TRANSFER DR 008 SITI AMINAH"),
    ]  # the PEND row and the summary block (Saldo Awal ... Saldo Akhir) are left out


def test_the_same_transfer_in_two_overlapping_bca_exports_has_the_same_key():
    first = {ln.description: ln.key for ln in read("bca_klikbca.csv", "bca")}
    second = {ln.description: ln.key for ln in read("bca_klikbca_overlap.csv", "bca")}
    shared = set(first) & set(second)
    assert len(shared) == 2 and all(first[d] == second[d] for d in shared)
    assert len(set(first.values()) | set(second.values())) == 5


def test_klikbca_bisnis_carries_its_mark_in_the_amount():
    assert rows(read("bca_bisnis.csv", "bca")) == [
        (7, D27, 150_123, "TRSF E-BANKING CR 2711/FTSCY/WS95031 150123.00 BUDI SANTOSO"),
        (8, D27, -10_000, "BIAYA ADM"),
    ]


def test_mandiri_mcm_csv_and_kopra_excel():
    assert rows(read("mandiri_mcm.csv", "mandiri")) == [
        (2, D27, 150_123, "SA OB CA No Book DARI BUDI SANTOSO PESANAN T01"),
        (3, D27, -12_500, "Biaya Adm"),
        (4, D28, 80_456, "Transfer Otomatis DARI 9000006726914 KE 1270010264453"),
    ]
    assert rows(read("mandiri_kopra.xlsx", "mandiri")) == [
        (8, D27, 150_123, "TRANSFER DARI BANK LAIN BUDI SANTOSO"),
        (9, D27, -12_500, "BIAYA ADMINISTRASI"),
        (11, D28, 150_789, "MCM InhouseTrf DARI SITI AMINAH"),
    ]  # sheet rows; the PENDING row 10 and the totals are left out


def test_bri_internet_banking_csv_and_qlola_excel():
    assert rows(read("bri_ibbiz.csv", "bri")) == [
        (7, D27, 150_123, "DARI 020601084702507 KE 038501000860307 BUDI SANTOSO"),
        (8, D27, -5_500, "BIAYA ADMIN"),
        (10, D28, 150_789, "NBMB SITI AMINAH TO TOKO DEMO SEJAHTERA"),
    ]
    assert rows(read("bri_qlola.xlsx", "bri")) == [
        (2, D27, 150_123, "NBMB BUDI SANTOSO TO TOKO DEMO SEJAHTERA"),
        (3, D27, -5_500, "BIAYA ADMIN"),
        (5, D28, 150_789, "BRIVA 12345 SITI AMINAH"),
    ]


def test_mt940_signs_by_its_marks_and_reads_the_86_text():
    assert rows(read("mandiri.mt940", "mt940")) == [
        (5, D27, 150_123, "TRANSFER DARI BUDI SANTOSO PESANAN T01"),
        (7, D27, -12_500, "BIAYA ADMINISTRASI"),
        (9, D28, 80_456, "TRANSFER DARI DEWI LESTARI"),
        (12, D28, 150_789, "KOREKSI DEBIT SITI AMINAH"),  # RD: a debit reversed, money in
        (14, D28, -20_000, "KOREKSI KREDIT SALAH TRANSFER"),  # RC: money out
    ]


def test_camt053_reads_booked_entries_with_the_counterparty_and_remittance():
    assert rows(read("bca.camt053.xml", "camt053")) == [
        (1, D27, 150_123, "BUDI SANTOSO PESANAN T01"),
        (2, D27, -10_000, "BIAYA ADM"),
        (3, D28, 80_456, "DEWI LESTARI TRF T01-0002"),
    ]  # entry 4 is pending (PDNG)


def test_broken_bank_csv_rows_are_each_named_by_their_line():
    text = (DATA / "bca_klikbca.csv").read_text()
    text = text.replace(
        "'27/11,BIAYA ADM,'0000,\"10,000.00\",DB", "'31/11,BIAYA ADM,'0000,\"10,000.00\",DB"
    )
    text = text.replace('"80,456.00",CR', '"80.456,xx",CR')
    text = text.replace('"150,789.00",CR', '"150,789.00",')
    assert refusal(text.encode(), "bca") == [
        "line 8, Tanggal Transaksi: '31/11' is not a date (%d/%m or %d/%m/%Y)",
        "line 9, Jumlah: '80.456,xx' is not an amount in whole rupiah",
        "line 10, Jumlah: '150,789.00' has no CR or DB mark",
    ]


def test_a_bank_export_in_another_currency_is_refused_at_its_currency_line():
    text = (
        (DATA / "bca_klikbca.csv")
        .read_text()
        .replace("Kode Mata Uang,=,Rp", "Kode Mata Uang,=,USD")
    )
    assert refusal(text.encode(), "bca") == [
        "line 4, Kode Mata Uang: the statement is in USD, the account in IDR"
    ]


def test_broken_excel_rows_are_named_by_their_sheet_row():
    book = load_workbook(DATA / "bri_qlola.xlsx")
    sheet = book.active
    sheet["C3"] = "kemarin"
    sheet["I5"] = 1000
    sheet["J5"] = 2000
    sheet["J2"] = 150123.5
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue(), "bri") == [
        "row 2, MUTASI_KREDIT/MUTASI_DEBIT: '150123.5' is not an amount in whole rupiah",
        "row 3, TGL_TRAN: 'kemarin' is not a date (%Y-%m-%d or %Y-%m-%d %H:%M:%S or %d/%m/%Y)",
        "row 5, MUTASI_KREDIT/MUTASI_DEBIT: both a credit and a debit",
    ]


def test_a_short_mandiri_row_is_named():
    text = (
        (DATA / "mandiri_mcm.csv")
        .read_text()
        .replace(',Biaya Adm,,,"12,500.00",.00,', ",Biaya Adm")
    )
    assert refusal(text.encode(), "mandiri") == ["line 3, -: 5 columns, the header has 9"]


def test_broken_mt940_entries_are_named_by_their_61_line():
    text = (DATA / "mandiri.mt940").read_text()
    text = text.replace(":61:2611271127D12500,00", ":61:2611271127X12500,00")
    text = text.replace(":61:2611281128C80456,00", ":61:2611281128C80456,50")
    errors = refusal(text.encode(), "mt940")
    assert [e.split(" (")[0].split(" does")[0] for e in errors] == [
        "line 7, tag 61: '2611271127X12500,00NCHGNONREF//AD2611270002'",
        "line 9, tag 61: not an amount in whole IDR minor units",
    ]


def test_an_mt940_statement_in_another_currency_is_refused():
    text = (DATA / "mandiri.mt940").read_text().replace("C261126IDR", "C261126USD")
    errors = refusal(text.encode(), "mt940")
    assert errors[0] == "line 5, tag 61: the statement is in USD, the account in IDR"
    assert len(errors) == 5


def test_broken_camt_entries_are_named_by_index_and_reference():
    xml = (DATA / "bca.camt053.xml").read_text()
    xml = xml.replace('<Amt Ccy="IDR">10000</Amt>', '<Amt Ccy="USD">10000</Amt>')
    xml = xml.replace(
        "<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>BOOK</Sts>\n        <BookgDt><DtTm>",
        "<CdtDbtInd>XXXX</CdtDbtInd>\n        <Sts>BOOK</Sts>\n        <BookgDt><DtTm>",
    )
    assert refusal(xml.encode(), "camt053") == [
        "entry 2, ref 2611270002: the entry is in USD, the account in IDR",
        "entry 3, ref 2611280003: 'XXXX' is not a credit/debit mark (CRDT or DBIT)",
    ]
    broken = (DATA / "bca.camt053.xml").read_bytes()[:900]
    assert refusal(broken, "camt053")[0].startswith("line 28, -: not an XML document")
    assert "not an XML document" in refusal(broken, "camt053")[0]


@pytest.mark.parametrize(
    ("sample", "fmt", "says"),
    [
        ("bca.camt053.xml", "bca", "is a CAMT.053 (ISO 20022 XML) statement, not a BCA export"),
        ("mandiri.mt940", "bri", "is an MT940 statement, not a BRI export"),
        ("bca_klikbca.csv", "mt940", "is a text (CSV) file, not an MT940 statement"),
        ("mandiri_kopra.xlsx", "camt053", "is an Excel workbook, not a CAMT.053 statement"),
        ("bri_ibbiz.csv", "bca", "not a BCA export: no header row with the columns"),
        ("bca_klikbca.csv", "mandiri", "not a Mandiri export: no header row"),
    ],
)
def test_a_file_of_another_format_is_refused_with_what_it_is(sample, fmt, says):
    assert says in refusal((DATA / sample).read_bytes(), fmt)[0]


def test_an_empty_file_an_unknown_format_and_a_csv_account_without_mapping_are_refused():
    for fmt in FORMATS:
        assert refusal(b"  \n", fmt) == ["line 1, -: the file is empty"]
    assert "unknown format 'qif'" in refusal(b"x", "qif")[0]
    assert refusal(b"a,b\n", "csv") == ["line 1, -: the account has no column mapping saved"]
    assert "is a zip archive, not a BCA export" in refusal(b"PK\x03\x04not a workbook", "bca")[0]


def test_a_csv_mapping_reads_an_excel_file_too():
    mapping = ColumnMapping(
        date="TGL_TRAN",
        description="DESK_TRAN",
        credit="MUTASI_KREDIT",
        debit="MUTASI_DEBIT",
        date_format="%Y-%m-%d",
        decimal_sep=".",
        thousands_sep=",",
        skip_values=("PENDING",),
    )
    assert [(ln.line_no, ln.amount) for ln in read("bri_qlola.xlsx", "csv", mapping)] == [
        (2, 150_123),
        (3, -5_500),
        (5, 150_789),
    ]
