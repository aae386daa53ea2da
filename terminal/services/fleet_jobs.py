"""Jobs from the fleet that the app runs (the agent, :mod:`terminal.fleet.jobs`, received
them and put them in ``fleet_jobs``): print an X report, lock and unlock the terminal, a
message to the cashier. :class:`FleetJobs` is polled on the window's clock (a look at
``PRAGMA data_version`` when nothing waits) and runs each job on the thread that runs the
sales:

- ``x_report``: printed as the Shift menu prints it (signed in or not); refused, with
  the reason, when no shift is open;
- ``message``: shown on the sale screen's message line (the event ``fleet_message``);
- ``lock``: new sales are refused ("Locked by the fleet: <reason>"); a sale in progress
  finishes first: until its cart is empty the job is ``accepted``, then ``done``;
- ``unlock``: lifts it (a lock still waiting for its sale is refused);
- ``count_open`` / ``count_close``: a stock count the fleet opened for the store, kept
  until it is closed (:mod:`terminal.services.stocktake`: supervisors count for it).

Each result is journaled (``job``: id, kind, state, detail, and the ``progress`` of a
``running`` step) and written for the agent to publish on ``up/job/{id}``; the agent's own
results and steps (send now, diagnostics, the certificate rotation, expired refusals) are
journaled here too (only the app writes the journal; a certificate request is not: the
fleet keeps it, and the certificate's serial is in the ``done`` detail).
"""

from __future__ import annotations

import logging

from peewee import DatabaseError

from terminal.core import fleet_protocol as fp
from terminal.core.errors import N_, PosError
from terminal.core.stocktake import parse_job_text
from terminal.store import fleet_jobs, stock_counts

log = logging.getLogger(__name__)

LOCKED = N_("Locked by the fleet: {reason}")


def result(
    job_id: str,
    state: str,
    now,
    detail: str = "",
    data=None,
    *,
    progress: int | None = None,
    csr: str = "",
) -> bytes:
    """A JobResult as the agent publishes it (``progress`` and ``csr``: of a ``running``
    step)."""
    return fp.encode(
        fp.JobResult(job_id, state, now, detail[:1000], dict(data or {}), progress, csr)
    )


class FleetLocked(PosError):
    def __init__(self, reason: str) -> None:
        super().__init__(LOCKED, reason=reason)


class FleetJobs:
    """The app's side: ``poll()`` runs what the agent handed over."""

    def __init__(self, pos) -> None:
        self.pos = pos
        self.data_version: int | None = None
        self.waiting_lock: str | None = None  # a lock job waiting for the sale to end
        self.message: str | None = None  # the fleet's last message to the cashier
        try:  # (its tables are made with the database's: terminal.store.db)
            self.locked: str | None = fleet_jobs.lock_reason(pos.db)
        except DatabaseError as exc:
            log.warning("fleet jobs not read: %s", exc)
            self.locked = None

    @property
    def db(self):
        return self.pos.db

    def check_sale(self) -> None:
        """Before an item is added: a lock waiting for an empty cart takes effect now;
        FleetLocked while the terminal is locked and no sale is in progress."""
        if self.waiting_lock is not None and self.pos.cart.is_empty:
            self.poll(force=True)
        if self.locked is not None and self.pos.cart.is_empty:
            raise FleetLocked(self.locked or "-")

    def poll(self, force: bool = False) -> None:
        """Cheap when nothing changed: one PRAGMA. Never raises for a database error."""
        try:
            version = self.db.execute_sql("PRAGMA data_version").fetchall()[0][0]
            if version == self.data_version and self.waiting_lock is None and not force:
                return
            self.data_version = version
            self._journal_results()
            for job in fleet_jobs.app_jobs(self.db):
                self._run(job)
        except DatabaseError as exc:  # the fleet's jobs never stop the terminal
            log.warning("fleet jobs not read: %s", exc)

    def _run(self, job: fleet_jobs.JobRow) -> None:
        if job.kind == "lock":
            if not self.pos.cart.is_empty:
                if job.state == "new":
                    self._answer(job, "accepted", "waits for the sale in progress to end")
                self.waiting_lock = job.id
                return
            self.waiting_lock = None
            fleet_jobs.set_lock(self.db, job.text or "")
            self.locked = job.text or ""
            self._answer(job, "done", "locked")
            self.pos.events.publish("fleet_lock", reason=self.locked)
        elif job.kind == "unlock":
            for waiting in fleet_jobs.app_jobs(self.db):
                if waiting.kind == "lock" and waiting.id != job.id:
                    self._answer(waiting, "refused", f"unlocked by job {job.id} first")
            self.waiting_lock = None
            fleet_jobs.set_lock(self.db, None)
            self.locked = None
            self._answer(job, "done", "unlocked")
            self.pos.events.publish("fleet_lock", reason=None)
        elif job.kind == "message":
            self.message = job.text
            self._answer(job, "done", "shown")
            self.pos.events.publish("fleet_message", text=job.text)
        elif job.kind == "count_open":
            try:
                count = parse_job_text(job.text or "")
            except ValueError as exc:
                self._answer(job, "refused", str(exc))
                return
            stock_counts.open_count(self.db, count, self.pos.clock().isoformat())
            self._answer(job, "done", f"count {count.id} open")
        elif job.kind == "count_close":
            closed = stock_counts.close_count(self.db, (job.text or "")[:20])
            self._answer(job, "done", "closed" if closed else "was not open here")
        elif job.kind == "x_report":
            try:
                printed = self.pos.shifts.x_report(job=job.id)
            except PosError as exc:
                self._answer(job, "refused", str(exc))
                return
            detail = f"printed (journal seq {printed.journal_seq})"
            if printed.print_error:
                detail = (
                    f"journaled (seq {printed.journal_seq}), not printed: {printed.print_error}"
                )
            self._answer(job, "done", detail)
        else:
            self._answer(job, "refused", f"not a job this terminal runs: {job.kind}")

    def _answer(self, job: fleet_jobs.JobRow, state: str, detail: str) -> None:
        now = self.pos.clock()
        with self.db.atomic("IMMEDIATE"):
            self._journal(job.id, job.kind, state, detail)
            fleet_jobs.set_state(self.db, job.id, state)
            fleet_jobs.add_result(
                self.db, job.id, job.kind, result(job.id, state, now, detail), journaled=True
            )
        log.info("fleet job %s (%s): %s, %s", job.id, job.kind, state, detail)

    def _journal(
        self, job_id: str, kind: str, state: str, detail: str, progress: int | None = None
    ) -> None:
        payload = {"id": job_id, "kind": kind, "result": state, "detail": detail[:1000]}
        if isinstance(progress, int):
            payload["progress"] = progress
        self.pos.journal.append("job", payload, self.pos.clock())

    def _journal_results(self) -> None:
        """The agent's results, journaled here (the agent never writes the journal)."""
        for row in fleet_jobs.unjournaled_results(self.db, 100):
            found = row.json()
            with self.db.atomic("IMMEDIATE"):
                self._journal(
                    row.job_id,
                    row.kind,
                    found.get("state", ""),
                    found.get("detail", ""),
                    found.get("progress"),
                )
                fleet_jobs.set_journaled(self.db, row.id)
