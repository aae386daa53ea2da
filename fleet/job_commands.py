"""``pos-fleet jobs send|status``: jobs sent to terminals (issue 14).

``jobs send KIND --terminal T | --group G [--text ...] [--expires 1h]`` records the job
(:class:`~fleet.models.Job`, one :class:`~fleet.models.JobTarget` per terminal) and
publishes it retained on each terminal's ``pos/v1/{tid}/down/job/{id}``, so a terminal
that is off gets it at connect (until it expires: then it is refused, never run late).
The terminals answer on ``up/job/{id}``; ``pos-fleet serve`` stores the answers, raises
an alert for a refused or failed job, and clears the retained job once an answer is
final. ``jobs status [ID]`` shows each terminal's answer (default: the newest job)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.config import FleetConfig
from fleet.config_commands import _broker, _db
from fleet.db import write_transaction
from fleet.models import Job, JobTarget, Terminal
from fleet.publisher import Publisher, PublishError
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc

STATE_COLOUR = {"accepted": "yellow", "done": "green", "refused": "red", "failed": "red"}


def add_parsers(commands, common) -> None:
    jobs = commands.add_parser("jobs", help="ask terminals to do something")
    actions = jobs.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", parents=[common], help="send a job to terminals")
    send.add_argument("kind", choices=fp.JOB_KINDS)
    which = send.add_mutually_exclusive_group(required=True)
    which.add_argument("--terminal", help="one terminal")
    which.add_argument("--group", help="every terminal of a group")
    send.add_argument("--text", default="", help="the message, or the reason of a lock")
    send.add_argument(
        "--expires", default="1h", help="refused by a terminal after this (default 1h)"
    )
    send.add_argument("--id", help="the job's id (default: a new one)")
    status = actions.add_parser("status", parents=[common], help="each terminal's answer")
    status.add_argument("id", nargs="?", help="the job (default: the newest)")


def run(config: FleetConfig, args, console: Console) -> int:
    if args.action == "status":
        return job_status(config, args.id, console)
    return job_send(config, args, console)


def job_send(config: FleetConfig, args, console: Console) -> int:
    if len(args.text) > 200:
        raise ValueError(f"--text: {len(args.text)} characters, at most 200")
    expires = fleet_signing.parse_duration(args.expires)
    job_id = args.id or f"j-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    job_id = fp.decode("down/job", _job_bytes(job_id, args.kind, datetime.now(UTC), expires, "")).id
    db = _db(config)
    scope = sc.Scope("terminal", args.terminal) if args.terminal else sc.Scope("group", args.group)
    terminals = rollouts.scope_terminals(db, scope)
    if not terminals:
        console.print(f"no terminal in {scope.label}; nothing sent")
        return 1
    if Job.select().where(Job.id == job_id).bind(db).exists():
        console.print(f"job {job_id} exists already; nothing sent")
        return 1
    issued = datetime.now(UTC).replace(microsecond=0)
    payload = _job_bytes(job_id, args.kind, issued, expires, args.text)
    naive = issued.replace(tzinfo=None)
    with write_transaction(db):
        Job.insert(
            id=job_id,
            kind=args.kind,
            text=args.text,
            target=scope.label,
            issued_at=naive,
            expires_at=naive + expires,
        ).execute(db)
        JobTarget.insert_many([{"job": job_id, "terminal_id": t} for t in terminals]).execute(db)
    sent = 0
    try:
        with Publisher(_broker(config)) as publisher:
            for tid in terminals:
                publisher.publish(fp.topic(tid, "down/job", job_id), payload, retain=True)
                sent += 1
    except PublishError as exc:
        console.print(f"job {job_id}: sent to {sent} of {len(terminals)} terminals: {exc}")
        return 1
    console.print(
        f"job {job_id} ({args.kind}) sent to {sent} terminal{'s' if sent != 1 else ''} "
        f"of {scope.label}, valid until {(issued + expires).isoformat()}"
    )
    return 0


def _job_bytes(job_id: str, kind: str, issued: datetime, expires, text: str) -> bytes:
    return fp.encode(fp.Job(job_id, kind, issued, issued + expires, text))


def job_status(config: FleetConfig, job_id: str | None, console: Console) -> int:
    db = _db(config)
    query = Job.select().bind(db)
    job = (
        query.where(Job.id == job_id).first()
        if job_id
        else query.order_by(Job.issued_at.desc(), Job.id.desc()).first()
    )
    if job is None:
        console.print(f"no job {job_id}" if job_id else "no job sent yet")
        return 1
    groups = dict(Terminal.select(Terminal.id, Terminal.group).tuples().bind(db))
    text = f": {job.text}" if job.text else ""
    until = f"{job.expires_at:%Y-%m-%d %H:%M} UTC"
    table = Table(title=f"Job {job.id}: {job.kind}{text} to {job.target}, until {until}")
    for name in ("terminal", "group", "state", "detail", "data", "at"):
        table.add_column(name)
    rows = JobTarget.select().where(JobTarget.job == job.id).order_by(JobTarget.terminal_id)
    for row in rows.bind(db):
        state = row.state or "no answer yet"
        colour = STATE_COLOUR.get(row.state or "", "")
        data = json.loads(row.data_json or "{}")
        shown = ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
        table.add_row(
            row.terminal_id,
            groups.get(row.terminal_id, ""),
            f"[{colour}]{state}[/]" if colour else state,
            row.detail,
            shown,
            row.ts,
        )
    console.print(table)
    return 0
