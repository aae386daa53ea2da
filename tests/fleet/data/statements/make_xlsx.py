"""Builds the Excel samples (mandiri_kopra.xlsx, bri_qlola.xlsx) with openpyxl, so what
they hold can be read here: python tests/fleet/data/statements/make_xlsx.py"""

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent


def mandiri() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Rekening Koran"
    for row in (
        ["Laporan Mutasi Rekening"],
        ["Nomor Rekening", "1270010264453"],
        ["Nama", "TOKO DEMO SEJAHTERA"],
        ["Periode", "27/11/2026 - 28/11/2026"],
        ["Mata Uang", "IDR"],
        [],
        [
            "Tgl.",
            "Tgl. Val.",
            "Rincian Transaksi",
            "No. Referensi",
            "Debit",
            "Kredit",
            "Saldo",
            "Branch Code",
        ],
        [
            datetime(2026, 11, 27),
            datetime(2026, 11, 27),
            "TRANSFER DARI BANK LAIN BUDI SANTOSO",
            "FT2611270001",
            0,
            150123,
            1150123,
            "99120",
        ],
        [
            "27/11/2026",
            "27/11/2026",
            "BIAYA ADMINISTRASI",
            "AD2611270002",
            "12,500.00",
            "",
            1137623,
            "99120",
        ],
        ["PENDING", "", "TRANSFER DARI DEWI LESTARI", "", 0, 80456, None, ""],
        [
            datetime(2026, 11, 28),
            datetime(2026, 11, 28),
            "MCM InhouseTrf DARI SITI AMINAH",
            "FT2611280003",
            0,
            150789.0,
            1288412,
            "99120",
        ],
        [],
        ["Saldo Awal", 1000000],
        ["Total Debit", 12500],
        ["Total Kredit", 300912],
        ["Saldo Akhir", 1288412],
    ):
        sheet.append(row)
    book.save(HERE / "mandiri_kopra.xlsx")


def bri() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(
        [
            "ID",
            "NOREK",
            "TGL_TRAN",
            "TGL_EFEKTIF",
            "JAM_TRAN",
            "SEQ",
            "DESK_TRAN",
            "SALDO_AWAL_MUTASI",
            "MUTASI_DEBIT",
            "MUTASI_KREDIT",
            "SALDO_AKHIR_MUTASI",
        ]
    )
    for row in (
        [
            1,
            "038501000860307",
            "2026-11-27",
            "2026-11-27",
            34214,
            1,
            "NBMB BUDI SANTOSO TO TOKO DEMO SEJAHTERA",
            1438000,
            0,
            150123,
            1588123,
        ],
        [
            2,
            "038501000860307",
            "2026-11-27",
            "2026-11-27",
            91000,
            2,
            "BIAYA ADMIN",
            1588123,
            5500,
            0,
            1582623,
        ],
        [
            3,
            "038501000860307",
            "PENDING",
            "",
            112000,
            3,
            "NBMB DEWI LESTARI TO TOKO DEMO",
            1582623,
            0,
            80456,
            None,
        ],
        [
            4,
            "038501000860307",
            datetime(2026, 11, 28),
            datetime(2026, 11, 28),
            80159,
            4,
            "BRIVA 12345 SITI AMINAH",
            1582623,
            0,
            150789,
            1733412,
        ],
    ):
        sheet.append(row)
    book.save(HERE / "bri_qlola.xlsx")


if __name__ == "__main__":
    mandiri()
    bri()
