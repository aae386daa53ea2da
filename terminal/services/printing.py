"""Receipts and reports through the persisted print queue: a job is kept before it is
sent, so a printer out of paper loses nothing (F9 prints what it refused, each once)."""

from __future__ import annotations

import logging

from hal.printer import PrinterError
from hal.printer.document import Document
from terminal.i18n import Gettext, translator
from terminal.services.context import ServiceContext
from terminal.store import print_queue

log = logging.getLogger(__name__)


class Printing:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._translators: dict[str, Gettext] = {}

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
        with ctx.db.atomic():
            job = print_queue.add_job(ctx.db.cursor(), name, ctx.printer.render(doc), None)
        return self.print_job(job)[1]

    def print_job(self, job_id: int) -> tuple[bytes | None, str | None]:
        """Send one queued job: (bytes printed, None) or (None, why not)."""
        db = self.ctx.db
        job = print_queue.job(db, job_id)
        if job.state == "failed" and not job.data:  # could not even be rendered
            return None, job.error
        print_queue.mark(db, job.id, "printing")
        try:
            data = self.ctx.printer.print_bytes(job.data, job_name=job.name)
        except Exception as exc:  # PrinterError, or the connection's own errors
            reason = str(exc) if isinstance(exc, PrinterError) else f"{type(exc).__name__}: {exc}"
            print_queue.mark(db, job.id, "failed", reason)
            log.warning("receipt %s not printed: %s", job.name, reason)
            return None, reason
        print_queue.mark(db, job.id, "done")
        return data, None

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
