"""ESC/POS bytes and render time of a typical 20-line receipt: native QR and barcode, with
the item names in the printer's codepage (Indonesia) and as raster text (China,
Mongolia); the baseline is the same lines as plain text without codes."""

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
NAMES = {
    "latin (CP437)": ["Teh Botol Sosro 450 ml", "Indomie Goreng", "Gula Pasir 1 kg"],
    "raster (CJK, Mongolian)": ["农夫山泉 矿泉水 550ml", "Өндөг 10 ширхэг", "康师傅 红烧牛肉面"],
}


def receipt(names: list[str], codes: bool) -> Document:
    doc = Document().line("TOKO DEMO", align="center", bold=True, size="tall")
    for i in range(20):
        doc.pair(names[i % len(names)], f"{(i + 1) * 1500:,}")
    doc.pair("TOTAL", "315,000", bold=True)
    if codes:
        doc.barcode("RT0100000042Z").qr("RT0100000042Z")
    return doc


def timed(doc: Document) -> tuple[float, int]:
    runs, size = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        size = len(render_escpos(doc, profile="TM-T20II", codepage="CP437"))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), size


def main() -> None:
    base_t, base_n = timed(receipt(NAMES["latin (CP437)"], codes=False))
    print(f"20-line receipt to ESC/POS bytes, median of {RUNS}")
    print(f"  baseline, text only            : {base_t * 1000:6.1f} ms  {base_n:6} bytes")
    for label, names in NAMES.items():
        t, n = timed(receipt(names, codes=True))
        print(
            f"  {label + ' + QR + barcode':<31}: {t * 1000:6.1f} ms  {n:6} bytes"
            f"   ratio {t / base_t:.1f}x time, {n / base_n:.1f}x bytes"
        )


if __name__ == "__main__":
    main()
