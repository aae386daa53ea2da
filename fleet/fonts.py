"""The fonts the fleet's PDFs draw with (reports, address labels): the DejaVu Sans Mono
the receipt printer's preview bundles, so names in any Latin or Cyrillic script print."""

from __future__ import annotations

from pathlib import Path

FONT = Path(__file__).resolve().parents[1] / "hal" / "printer" / "fonts" / "DejaVuSansMono.ttf"
BOLD = FONT.with_name("DejaVuSansMono-Bold.ttf")
