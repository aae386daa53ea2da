"""What every barcode scanner is: an input device that delivers scanned codes."""

from __future__ import annotations

from hal.device import InputDevice


class Scanner(InputDevice[str]):
    """A barcode scanner: delivers each scanned code (a string) to its handler."""

    kind = "scanner"
