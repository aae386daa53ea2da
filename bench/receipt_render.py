"""ESC/POS bytes and render time of a typical 20-line receipt: native QR and barcode, with
the item names in the printer's codepage (Indonesia), then the same receipt in Mongolian
and in Chinese printed natively (a Cyrillic code page; the printer's Chinese mode) and as
raster lines; the baseline is the Latin lines as plain text without codes. Goal: a
native receipt within 1.5x of the Latin receipt's bytes. Also the time each takes on a
9600-baud serial printer (8N1: 960 bytes a second), which is what a cashier waits."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hal.printer.document import Document
from hal.printer.escpos_render import render_escpos

# BENCH_QUICK=1: a few rounds only, so the tests can check that the benchmark runs
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = 2 if QUICK else 30
LATIN = ["Teh Botol Sosro 450 ml", "Indomie Goreng", "Gula Pasir 1 kg"]
MONGOLIAN = ["Өндөг 10 ширхэг", "Сүү 1 литр", "Талх цагаан"]
CHINESE = ["农夫山泉 矿泉水 550ml", "康师傅 红烧牛肉面", "可口可乐 330ml"]
CASES = {  # label: (names, cyrillic, chinese)
    "latin (CP437)": (LATIN, "native", "raster"),
    "Mongolian, native (RK1048)": (MONGOLIAN, "native", "raster"),
    "Mongolian, raster": (MONGOLIAN, "raster", "raster"),
    "Chinese, native (GBK mode)": (CHINESE, "native", "gbk"),
    "Chinese, raster": (CHINESE, "native", "raster"),
}
SERIAL_BYTES_PER_S = 960


def receipt(names: list[str], codes: bool) -> Document:
    doc = Document().line("TOKO DEMO", align="center", bold=True, size="tall")
    for i in range(20):
        doc.pair(names[i % len(names)], f"{(i + 1) * 1500:,}")
    doc.pair("TOTAL", "315,000", bold=True)
    if codes:
        doc.barcode("RT0100000042Z").qr("RT0100000042Z")
    return doc


def timed(doc: Document, cyrillic: str = "native", chinese: str = "raster") -> tuple[float, int]:
    runs, size = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        data = render_escpos(
            doc, profile="TM-T20II", codepage="CP437", cyrillic=cyrillic, chinese=chinese
        )
        size = len(data)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), size


def main() -> None:
    base_t, base_n = timed(receipt(LATIN, codes=False))
    print(f"20-line receipt to ESC/POS bytes (TM-T20II profile), median of {RUNS}")
    print(
        f"  baseline, latin text only                 : {base_t * 1000:6.1f} ms  {base_n:6} bytes"
    )
    latin_n = timed(receipt(LATIN, codes=True))[1]
    for label, (names, cyrillic, chinese) in CASES.items():
        t, n = timed(receipt(names, codes=True), cyrillic, chinese)
        print(
            f"  {label + ' + QR + barcode':<42}: {t * 1000:6.1f} ms  {n:6} bytes"
            f"  {n / SERIAL_BYTES_PER_S:5.1f} s at 9600 baud"
            f"   ratio {t / base_t:.1f}x time, {n / latin_n:.2f}x the latin receipt's bytes"
        )


if __name__ == "__main__":
    main()
