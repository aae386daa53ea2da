"""The agent's side of jobs from the fleet (``pos/v1/{tid}/down/job/{id}``, retained): each
job is decoded strictly, a repeat of an id already seen is ignored, an expired one is
refused (never run late), send now, diagnostics and the certificate jobs are run here, and
the app's jobs (X report, lock, unlock, message) are handed to the app through
``fleet_jobs`` (the app answers ``accepted`` and then its result). Every result is a row
the agent publishes on ``up/job/{id}`` and the app journals.

A job that takes time reports its steps before its result: ``running`` rows, with a
``progress`` in percent when it is known (``report`` given to the runner). An agent job is
recorded (state ``running``) before it runs, so a repeat that arrives meanwhile (the
retained job again after a reconnection) is ignored too. The runner returns the job's
data (``done``) or an :class:`Outcome` (a job that goes on: ``running``, e.g. a
``rotate_certificate`` waiting for its certificate, or a ``send_now`` waiting for the
fleet's acknowledgements); :class:`JobRefused` refuses it with its reason, any other
exception fails it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from peewee import Database

from terminal.core import fleet_protocol as fp
from terminal.services.fleet_jobs import result
from terminal.store import fleet_jobs, outbox

log = logging.getLogger(__name__)

AGENT_KINDS = ("send_now", "diagnostics", "rotate_certificate", "install_certificate")
APP_KINDS = ("x_report", "lock", "unlock", "message", "count_open", "count_close")


class JobRefused(Exception):
    """The job cannot be run as sent (its input is wrong): refused, with this reason,
    and nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    """What a run came to when it is not simply ``done`` with data."""

    state: str = "done"
    detail: str = ""
    data: dict[str, str] = field(default_factory=dict)
    progress: int | None = None
    csr: str = ""


class Report(Protocol):
    def __call__(self, progress: int | None, detail: str, csr: str = "") -> None: ...


Runner = Callable[[fp.Job, Report], "dict[str, str] | Outcome"]


def device_health(db: Database) -> dict[str, str]:
    """Each device health event's last state (from the device watch's rows): ``on`` while
    it lasts, ``cleared`` once over."""
    rows = db.execute_sql(
        f"SELECT name, cleared FROM {outbox.EVENTS} WHERE id IN "
        f"(SELECT MAX(id) FROM {outbox.EVENTS} GROUP BY name) ORDER BY name"
    ).fetchall()
    return {f"device.{name}"[:200]: "cleared" if cleared else "on" for name, cleared in rows}


def diagnostics(db: Database, software: str, connected: bool) -> dict[str, str]:
    link = outbox.link(db)
    data = {
        "software": software[:200],
        "link": "connected" if connected else "disconnected",
        "link_since": link.since[:200],
        "unsent": str(outbox.unsent(db)),
    }
    data.update(device_health(db))
    return data


def add_step(
    db: Database,
    job_id: str,
    kind: str,
    now: datetime,
    progress: int | None,
    detail: str,
    csr: str = "",
) -> None:
    """A ``running`` result of an agent job (published, then journaled by the app)."""
    fleet_jobs.add_result(
        db,
        job_id,
        kind,
        result(job_id, "running", now, detail, progress=progress, csr=csr),
        journaled=False,
    )


def finish(
    db: Database, job_id: str, kind: str, now: datetime, state: str, detail: str = "", data=None
) -> None:
    """An agent job's final result: its state set and the result written, at once."""
    with db.atomic():
        fleet_jobs.set_state(db, job_id, state)
        fleet_jobs.add_result(
            db, job_id, kind, result(job_id, state, now, detail, data), journaled=False
        )


def receive(
    db: Database,
    terminal_id: str,
    topic: str,
    payload: bytes,
    now: datetime,
    run: Runner,
    wall: Callable[[], datetime] | None = None,
) -> str:
    """Handle one message on a job topic; returns what was done (``cleared``, ``bad``,
    ``repeat``, ``refused``, ``done``, ``failed``, ``running``, ``handed``). ``run``: runs
    an agent job (see the module's text); ``wall``: the time stamped on its steps and
    result (default ``now``). Never raises for what the message holds."""
    clock = wall or (lambda: now)
    if not payload:
        return "cleared"  # the fleet cleared the retained job: nothing to do
    try:
        job = fp.decode("down/job", payload)
        if topic != fp.topic(terminal_id, "down/job", job.id):
            raise fp.BadMessage(f"job {job.id} on the topic {topic[:120]!r}")
    except (fp.BadMessage, ValueError) as exc:
        log.warning("ignored a malformed job: %s", str(exc)[:200])
        return "bad"
    with db.atomic():
        if fleet_jobs.seen(db, job.id):
            return "repeat"
        app = job.kind in APP_KINDS
        if job.expires_at <= now:
            fleet_jobs.add_job(db, job.id, job.kind, job.text, now, app=app, state="refused")
            fleet_jobs.add_result(
                db, job.id, job.kind, result(job.id, "refused", now, "expired"), journaled=False
            )
            log.warning("job %s (%s) refused: expired at %s", job.id, job.kind, job.expires_at)
            return "refused"
        if app:
            fleet_jobs.add_job(db, job.id, job.kind, job.text, now, app=True, state="new")
            log.info("job %s (%s) handed to the terminal", job.id, job.kind)
            return "handed"
        fleet_jobs.add_job(db, job.id, job.kind, job.text, now, app=False, state="running")

    def report(progress: int | None, detail: str, csr: str = "") -> None:
        add_step(db, job.id, job.kind, clock(), progress, detail, csr)

    try:
        ran = run(job, report)
    except JobRefused as exc:
        outcome = Outcome("refused", str(exc))
    except Exception as exc:  # a job that fails is reported, never stops the agent
        log.exception("job %s (%s) failed", job.id, job.kind)
        outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
    else:
        outcome = ran if isinstance(ran, Outcome) else Outcome("done", "", dict(ran))
    if outcome.state == "running":
        add_step(db, job.id, job.kind, clock(), outcome.progress, outcome.detail, outcome.csr)
    else:
        finish(db, job.id, job.kind, clock(), outcome.state, outcome.detail, outcome.data)
    log.info("job %s (%s) %s %s", job.id, job.kind, outcome.state, outcome.detail[:200])
    return outcome.state
