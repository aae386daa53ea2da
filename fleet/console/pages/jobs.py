"""Jobs: what was asked of the terminals (send now, an X report, lock and unlock, a message,
diagnostics, a certificate rotation) and each terminal's answer; a fleet admin sends one
from a form (the same code as ``pos-fleet jobs send``). Every job sent is audited."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet import signing as fleet_signing
from fleet.console import accounts
from fleet.console.access import Forbidden
from fleet.console.web import Context, action, page
from fleet.job_commands import SENT_KINDS, JobError, send_job
from fleet.models import Job, JobTarget, Terminal
from terminal.core import signed_config as sc

SHOWN = 20


def _visible_terminals(ctx: Context) -> set[str]:
    rows = Terminal.select(Terminal.id).where(ctx.viewer.stores_clause(Terminal.store))
    return {tid for (tid,) in rows.tuples().bind(ctx.db)}


@page("jobs")
def jobs(ctx: Context) -> Response:
    visible = _visible_terminals(ctx)
    shown = []
    for job in Job.select().order_by(Job.issued_at.desc()).limit(SHOWN).bind(ctx.db):
        targets = [
            t
            for t in JobTarget.select().where(JobTarget.job == job.id).bind(ctx.db)
            if t.terminal_id in visible
        ]
        if targets:
            shown.append({"job": job, "targets": sorted(targets, key=lambda t: t.terminal_id)})
    return ctx.render("jobs.html", jobs=shown, kinds=SENT_KINDS, problem="", form={})


@action("jobs")
def send(ctx: Context, form) -> Response:
    if ctx.console.operations is None:
        raise Forbidden("no broker configured for the console")
    kind = str(form.get("kind", ""))
    target = str(form.get("target", "")).strip()
    try:
        if kind not in SENT_KINDS:
            raise JobError(f"{kind[:40]!r}: not a job sent from here ({', '.join(SENT_KINDS)})")
        scope = sc.parse_scope(target)
        if scope.kind == "fleet":
            raise ValueError("a job goes to a group or a terminal")
        expires = fleet_signing.parse_duration(str(form.get("expires", "") or "1h"))
        if expires > timedelta(days=7):
            raise ValueError("a job expires within 7 days")
        job = send_job(
            ctx.console.operations.config,
            ctx.db,
            kind,
            scope,
            text=str(form.get("text", "")),
            expires=expires,
        )
    except (JobError, ValueError, fleet_signing.SigningError) as exc:
        return ctx.render("jobs.html", 422, jobs=[], kinds=SENT_KINDS, problem=str(exc), form=form)
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "job sent",
        f"{job.job_id} {job.kind} to {scope.label}: {job.sent} of {job.terminals}"
        + (f" ({job.error})" if job.error else ""),
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/jobs#job-{job.job_id}", status_code=303)


ROUTES = [
    Route("/jobs", jobs),
    Route("/jobs/send", send, methods=["POST"]),
]
