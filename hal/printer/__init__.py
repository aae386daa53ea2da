"""Receipt printers: a device-independent document, rendered to ESC/POS by python-escpos."""

from hal.printer.document import Document
from hal.printer.interface import Printer, PrinterError

__all__ = ["Document", "Printer", "PrinterError"]
