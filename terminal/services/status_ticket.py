"""The status ticket a terminal prints at the end of its first boot, as Odoo's IoT box does:
what a technician checks before leaving the shop (terminal id, store, the fleet's address
and the connection, the enrollment's result and, when refused, why and what to do, the
key protector in use). Printed on the receipt printer of the configuration, in the
shop's language; a printer that cannot print is reported, never fatal."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hal.device import DeviceEnv, build
from hal.printer import backends as printers
from hal.printer.document import Document
from terminal.config import Settings
from terminal.core.errors import N_
from terminal.i18n import translator

log = logging.getLogger(__name__)

PROTECTOR_WORDS = {
    "tpm2": N_("TPM 2.0"),
    "rpi-otp": N_("the Raspberry Pi's OTP key"),
    "file": N_("a file (development only: the card alone opens the keys)"),
}


# the fleet's reasons for refusing an enrollment (terminal.core.enrollment_protocol)
REFUSAL_WORDS = {
    "unknown token": N_("The fleet does not know this token: write a new card."),
    "token used": N_("This token was used by another device: write a new card."),
    "token expired": N_("This token has expired: write a new card."),
    "bad request": N_("The fleet refused the request."),
    "not available": N_("The fleet cannot issue certificates now: try again later."),
}


@dataclass(frozen=True)
class Status:
    terminal_id: str
    store: str
    fleet: str  # host:port
    reached: bool | None  # the fleet's broker, over TLS (None: not tried)
    enrolled: bool
    reason: str = ""  # why not (the fleet's words, or the link's)
    refusal: str = ""  # the fleet's reason code, when it refused
    protector: str = ""
    software: str = ""
    when: str = ""  # local time, as printed on receipts
    configuration: list[str] = field(default_factory=list)  # "fleet v3", "group:north v1"
    restored: bool = False  # a replacement: the lost terminal's records taken over


def ticket(status: Status, locale: str, columns: int = 48) -> Document:
    _ = translator(locale).gettext
    doc = Document(columns)
    doc.line(_("TERMINAL SET-UP"), align="center", bold=True, size="double")
    doc.line(status.when, align="center").rule()
    doc.pair(_("Terminal"), status.terminal_id)
    doc.pair(_("Store"), status.store)
    doc.pair(_("Fleet"), status.fleet)
    connection = {
        True: _("connected over TLS, the broker's certificate checked"),
        False: _("not reached"),
        None: _("not tried"),
    }[status.reached]
    doc.paragraph(_("Connection") + ": " + connection)
    words = PROTECTOR_WORDS.get(status.protector)
    doc.paragraph(_("Key protection") + ": " + (_(words) if words else status.protector))
    if status.software:
        doc.pair(_("Software"), status.software)
    doc.rule()
    if status.enrolled:
        doc.line(_("ENROLLED"), align="center", bold=True, size="double")
        doc.line(_("Configuration received:"))
        for scope in status.configuration or [_("none yet (it follows from the fleet)")]:
            doc.line(f"  {scope}")
        if status.restored:
            doc.paragraph(
                _(
                    "The lost terminal's records were taken over from the fleet: numbering "
                    "goes on after its last receipt."
                )
            )
        doc.paragraph(_("The terminal starts selling now."))
    else:
        doc.line(_("NOT ENROLLED"), align="center", bold=True, size="double")
        if status.refusal in REFUSAL_WORDS:
            doc.paragraph(_(REFUSAL_WORDS[status.refusal]))
        doc.paragraph(status.reason)
        doc.paragraph(
            _(
                "Nothing was changed. Fix the cause (network, a new card from "
                "pos-provision card), then switch the terminal off and on: it tries again."
            )
        )
    doc.feed(3)
    return doc


def print_ticket(settings: Settings, doc: Document) -> str | None:
    """Print ``doc`` on the configuration's printer: None, or why it did not print."""
    env = DeviceEnv(settings.data_dir, currency=settings.store.currency)
    try:
        printer = build(settings.hardware.printer, printers.BACKENDS, env)
    except Exception as exc:  # a backend's own failure to be made
        return f"{type(exc).__name__}: {exc}"
    try:
        printer.start()
        printer.print_bytes(printer.render(doc), job_name="status-ticket")
    except Exception as exc:  # PrinterError, or the connection's own errors
        log.warning("the status ticket did not print: %s", exc)
        return f"{type(exc).__name__}: {exc}"
    finally:
        try:
            printer.close()
        except Exception as exc:
            log.warning("the printer did not close cleanly: %s", exc)
    return None
