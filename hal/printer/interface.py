"""The printer interface the application talks to."""

from __future__ import annotations

from typing import Protocol

from hal.printer.document import Document


class PrinterError(Exception):
    """The printer could not print (offline, out of paper, cable out)."""


class Printer(Protocol):
    columns: int

    def render(self, doc: Document) -> bytes:
        """The job's bytes (starting with ESC @, ending with a cut), without sending them."""
        ...

    def print_bytes(self, data: bytes, *, job_name: str = "") -> bytes:
        """Send a rendered job; raises PrinterError when the printer does not take it."""
        ...

    def print_document(self, doc: Document, *, job_name: str = "") -> bytes:
        """Render and send a whole job; returns the bytes sent."""
        ...
