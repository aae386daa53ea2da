"""Receipts and reports through the persisted print queue: a job is kept before it is
sent, so a printer out of paper loses nothing (F9 prints what it refused, each once).

Why a job did not print is said for the cashier (a message id: out of paper, no answer,
storage full), never as the operating system's words; those go to the log and the print
queue, for the technician."""

from __future__ import annotations

import logging

from peewee import DatabaseError

from hal.printer import PrinterError
from hal.printer.document import Document
from terminal.core.errors import N_
from terminal.i18n import Gettext, translator
from terminal.services.context import ServiceContext
from terminal.store import print_queue

log = logging.getLogger(__name__)

PAPER_OUT = N_("the printer is out of paper")
NO_ANSWER = N_("the printer did not take it")
NOT_QUEUED = N_("the terminal's storage is full: call a technician")


def cashier_reason(exc: Exception) -> str:
    """A printer fault as the cashier is told it (a message id)."""
    if isinstance(exc, PrinterError) and str(exc) == "paper out":
        return PAPER_OUT
    return NO_ANSWER


class Printing:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._translators: dict[str, Gettext] = {}
        # job id -> what to print instead of the job's stored bytes, held in memory only:
        # a fiscal receipt with what may never be stored (e-barimt's lottery and QR). A
        # job that does not print keeps it here for F9, as long as the terminal runs.
        self._volatile: dict[int, bytes] = {}

    @property
    def gettext(self) -> Gettext:
        """The receipts' language: the shop's, whoever is signed in."""
        locale = self.ctx.settings.store.locale
        if locale not in self._translators:
            self._translators[locale] = translator(locale).gettext
        return self._translators[locale]

    def print_document(self, name: str, doc: Document) -> str | None:
        """Queue ``doc`` as job ``name``, then send it: None, or why it did not print."""
        ctx = self.ctx
        try:
            with ctx.db.atomic():
                job = print_queue.add_job(ctx.db.cursor(), name, ctx.printer.render(doc), None)
        except DatabaseError as exc:
            log.error("%s not queued for printing: %s", name, exc)
            return NOT_QUEUED
        return self.print_job(job)[1]

    def print_job(
        self, job_id: int, volatile: bytes | None = None
    ) -> tuple[bytes | None, str | None]:
        """Send one queued job: (bytes printed, None) or (None, why not: a message id).
        Never raises: whatever fails here, the sale or refund it prints is saved.
        ``volatile``: the bytes to print instead of the stored ones (kept in memory)."""
        db = self.ctx.db
        if volatile is not None:
            self._volatile[job_id] = volatile
        try:
            job = print_queue.job(db, job_id)
            if job.state == "failed" and not job.data:  # could not even be rendered
                log.warning("receipt %s cannot be printed: %s", job.name, job.error)
                return None, NO_ANSWER
            if not print_queue.claim(db, job.id):  # printed, or being printed, by another
                return None, None
        except DatabaseError as exc:  # a full card, say: the job cannot be tracked
            log.error("print job %s not sent: %s", job_id, exc)
            return None, NOT_QUEUED
        try:
            data = self.ctx.printer.print_bytes(
                self._volatile.get(job.id, job.data), job_name=job.name
            )
        except Exception as exc:  # PrinterError, or the connection's own errors
            detail = f"{type(exc).__name__}: {exc}"
            log.warning("receipt %s not printed: %s", job.name, detail)
            self._mark(job.id, "failed", detail)
            return None, cashier_reason(exc)
        self._mark(job.id, "done")
        self._volatile.pop(job.id, None)
        return data, None

    def _mark(self, job_id: int, state: str, detail: str | None = None) -> None:
        try:
            print_queue.mark(self.ctx.db, job_id, state, detail)
        except DatabaseError as exc:
            log.error("print job %s not marked %s: %s", job_id, state, exc)

    def resume(self) -> tuple[int, str | None]:
        """Print the receipts that were refused (paper out, offline), oldest first, each
        once. Returns (how many printed, why the next one did not)."""
        printed = 0
        for job in print_queue.waiting(self.ctx.db):
            _data, error = self.print_job(job.id)
            if error:
                return printed, error
            printed += 1
        return printed, None

    def interrupted(self) -> list[str]:
        """Receipts that were being printed when the terminal stopped: check the printer."""
        return [job.name for job in print_queue.interrupted(self.ctx.db)]
