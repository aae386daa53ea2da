"""The printer interface the application talks to."""

from __future__ import annotations

from typing import Protocol

from hal.printer.document import Document


class PrinterError(Exception):
    """The printer could not print (offline, out of paper, cable out)."""


class Printer(Protocol):
    columns: int

    def print_document(self, doc: Document, *, job_name: str = "") -> bytes:
        """Print a whole job (starting with ESC @, ending with a cut); returns the bytes sent."""
        ...
