"""The agent's side of jobs from the fleet (``pos/v1/{tid}/down/job/{id}``, retained): each
job is decoded strictly, a repeat of an id already seen is ignored, an expired one is
refused (never run late), send now and diagnostics are run here, and the app's jobs (X
report, lock, unlock, message) are handed to the app through ``fleet_jobs`` (the app
answers ``accepted`` and then its result). Every result is a row the agent publishes on
``up/job/{id}`` and the app journals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from peewee import Database

from terminal.core import fleet_protocol as fp
from terminal.services.fleet_jobs import result
from terminal.store import fleet_jobs, outbox

log = logging.getLogger(__name__)

AGENT_KINDS = ("send_now", "diagnostics")
APP_KINDS = ("x_report", "lock", "unlock", "message")


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


def receive(
    db: Database,
    terminal_id: str,
    topic: str,
    payload: bytes,
    now: datetime,
    run: Callable[[fp.Job], dict[str, str]],
) -> str:
    """Handle one message on a job topic; returns what was done (``cleared``, ``bad``,
    ``repeat``, ``refused``, ``done``, ``failed``, ``handed``). ``run``: runs an agent
    job and returns its data. Never raises for what the message holds."""
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
    try:
        data = run(job)
    except Exception as exc:  # a job that fails is reported, never stops the agent
        log.exception("job %s (%s) failed", job.id, job.kind)
        state, detail, data = "failed", f"{type(exc).__name__}: {exc}", {}
    else:
        state, detail = "done", ""
    with db.atomic():
        fleet_jobs.add_job(db, job.id, job.kind, job.text, now, app=False, state=state)
        fleet_jobs.add_result(
            db, job.id, job.kind, result(job.id, state, now, detail, data), journaled=False
        )
    log.info("job %s (%s) %s", job.id, job.kind, state)
    return state
