"""``pos-fleet jobs send|status|certify``: jobs sent to terminals (issue 14).

``jobs send KIND --terminal T | --group G [--text ...] [--expires 1h]`` records the job
(:class:`~fleet.models.Job`, one :class:`~fleet.models.JobTarget` per terminal) and
publishes it retained on each terminal's ``pos/v1/{tid}/down/job/{id}``, so a terminal
that is off gets it at connect (until it expires: then it is refused, never run late).
The terminals answer on ``up/job/{id}`` (``running`` steps with their progress first, for
a job that takes time); ``pos-fleet serve`` stores the answers, raises an alert for a
refused or failed job, and clears the retained job once an answer is final. ``jobs
status [ID]`` shows each terminal's latest answer and progress (default: the newest job).

Rotating the terminals' MQTT certificates: ``jobs send rotate_certificate`` asks each
terminal for a new key (made on the terminal, never sent) and its certificate request;
``serve`` keeps the requests (:class:`~fleet.models.JobProgress`). ``jobs certify ID``
(which ``send rotate_certificate`` runs itself for ``--wait`` seconds) signs each
request with the fleet CA (``[pki] dir``) once it checked it (its signature, the common
name is the terminal's id, a P-256 key; refused otherwise, and nothing is sent) and
sends the terminal an ``install_certificate`` job with the certificate, whose ``text``
names the rotation. The terminal checks it, swaps its files, reconnects with it (back to
the old pair if the broker refuses it), and answers both jobs."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleet import pki
from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.config import FleetConfig
from fleet.config_commands import _broker, _db
from fleet.db import write_transaction
from fleet.models import Job, JobProgress, JobTarget, Terminal
from fleet.passphrases import passphrase
from fleet.publisher import Publisher, PublishError
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc

STATE_COLOUR = {
    "accepted": "yellow",
    "running": "cyan",
    "done": "green",
    "refused": "red",
    "failed": "red",
}
COUNT_KINDS = ("count_open", "count_close")  # sent by the console's stock counts
# what the jobs page and `pos-fleet jobs send` send (install_certificate: by certify)
SENT_KINDS = tuple(k for k in fp.JOB_KINDS if k not in ("install_certificate", *COUNT_KINDS))


def add_parsers(commands, common) -> None:
    jobs = commands.add_parser("jobs", help="ask terminals to do something")
    actions = jobs.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", parents=[common], help="send a job to terminals")
    send.add_argument("kind", choices=SENT_KINDS)
    which = send.add_mutually_exclusive_group(required=True)
    which.add_argument("--terminal", help="one terminal")
    which.add_argument("--group", help="every terminal of a group")
    send.add_argument("--text", default="", help="the message, or the reason of a lock")
    send.add_argument(
        "--expires", default="1h", help="refused by a terminal after this (default 1h)"
    )
    send.add_argument("--id", help="the job's id (default: a new one)")
    send.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="rotate_certificate: seconds to wait for the requests to certify (default 30)",
    )
    status = actions.add_parser("status", parents=[common], help="each terminal's answer")
    status.add_argument("id", nargs="?", help="the job (default: the newest)")
    certify = actions.add_parser(
        "certify",
        parents=[common],
        help="sign the certificate requests of a rotate_certificate job and send them",
    )
    certify.add_argument("id", help="the rotate_certificate job")
    certify.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for requests not in yet"
    )
    certify.add_argument(
        "--expires", default="1h", help="the install jobs are refused after this (default 1h)"
    )


def run(config: FleetConfig, args, console: Console) -> int:
    if args.action == "status":
        return job_status(config, args.id, console)
    if args.action == "certify":
        expires = fleet_signing.parse_duration(args.expires)
        return job_certify(config, args.id, console, wait=args.wait, expires=expires)
    return job_send(config, args, console)


class JobError(ValueError):
    """A job that cannot be sent as asked (nothing recorded or sent)."""


@dataclass(frozen=True)
class SentJob:
    job_id: str
    kind: str
    scope: sc.Scope
    terminals: int
    sent: int
    valid_until: datetime
    error: str = ""  # the broker failed after ``sent`` terminals


def send_job(
    config: FleetConfig,
    db,
    kind: str,
    scope: sc.Scope,
    *,
    text: str = "",
    expires: timedelta = timedelta(hours=1),
    job_id: str | None = None,
) -> SentJob:
    """Record a job for the scope's terminals and publish it retained on each one's
    ``down/job/{id}``. JobError when nothing can be sent."""
    if kind not in SENT_KINDS + COUNT_KINDS:
        raise JobError(f"{kind!r}: not a job that can be sent ({', '.join(SENT_KINDS)})")
    if len(text) > 200:
        raise JobError(f"text: {len(text)} characters, at most 200")
    job_id = job_id or f"j-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    job_id = fp.decode("down/job", _job_bytes(job_id, kind, datetime.now(UTC), expires, "")).id
    terminals = rollouts.scope_terminals(db, scope)
    if not terminals:
        raise JobError(f"no terminal in {scope.label}; nothing sent")
    if Job.select().where(Job.id == job_id).bind(db).exists():
        raise JobError(f"job {job_id} exists already; nothing sent")
    issued = datetime.now(UTC).replace(microsecond=0)
    payload = _job_bytes(job_id, kind, issued, expires, text)
    naive = issued.replace(tzinfo=None)
    with write_transaction(db):
        Job.insert(
            id=job_id,
            kind=kind,
            text=text,
            target=scope.label,
            issued_at=naive,
            expires_at=naive + expires,
        ).execute(db)
        JobTarget.insert_many([{"job": job_id, "terminal_id": t} for t in terminals]).execute(db)
    sent, error = 0, ""
    try:
        with Publisher(_broker(config)) as publisher:
            for tid in terminals:
                publisher.publish(fp.topic(tid, "down/job", job_id), payload, retain=True)
                sent += 1
    except PublishError as exc:
        error = str(exc)
    return SentJob(job_id, kind, scope, len(terminals), sent, issued + expires, error)


def job_send(config: FleetConfig, args, console: Console) -> int:
    expires = fleet_signing.parse_duration(args.expires)
    scope = sc.Scope("terminal", args.terminal) if args.terminal else sc.Scope("group", args.group)
    try:
        job = send_job(
            config, _db(config), args.kind, scope, text=args.text, expires=expires, job_id=args.id
        )
    except JobError as exc:
        if "at most 200" in str(exc):
            raise ValueError(f"--{exc}") from None
        console.print(str(exc))
        return 1
    if job.error:
        console.print(
            f"job {job.job_id}: sent to {job.sent} of {job.terminals} terminals: {job.error}"
        )
        return 1
    console.print(
        f"job {job.job_id} ({job.kind}) sent to {job.sent} terminal{'s' if job.sent != 1 else ''} "
        f"of {scope.label}, valid until {job.valid_until.isoformat()}"
    )
    if job.kind == "rotate_certificate":
        return job_certify(config, job.job_id, console, wait=args.wait, expires=expires)
    return 0


def _job_bytes(
    job_id: str, kind: str, issued: datetime, expires, text: str, certificate: str = ""
) -> bytes:
    return fp.encode(fp.Job(job_id, kind, issued, issued + expires, text, certificate))


# -- certificate rotation -----------------------------------------------------------------------
def sign_request(ca: pki.Authority, terminal_id: str, pem: str) -> x509.Certificate:
    """The fleet CA's certificate for a terminal's request, once checked: a PEM request
    whose signature verifies (its sender holds the key), made out to ``terminal_id``
    alone, for a P-256 ECDSA key. ValueError saying why otherwise."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except ValueError:
        raise ValueError("not a PEM certificate request") from None
    if not csr.is_signature_valid:
        raise ValueError("the request's signature does not verify")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or len(csr.subject) != 1 or names[0].value != terminal_id:
        shown = ", ".join(str(a.value)[:64] for a in names) or "no common name"
        raise ValueError(f"the request names {shown!r}, not the terminal {terminal_id!r}")
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != pki.CURVE.name:
        raise ValueError(f"the request's key is not an ECDSA {pki.CURVE.name} key")
    return pki.issue(ca, csr)


def job_certify(
    config: FleetConfig,
    job_id: str,
    console: Console,
    *,
    wait: float = 0.0,
    expires: timedelta = timedelta(hours=1),
) -> int:
    """Sign each request of rotation ``job_id`` not signed yet (waiting ``wait`` seconds
    for terminals that have not sent theirs) and send each its ``install_certificate``.
    1 when a request was refused or a send failed (terminals that have not answered
    yet are named: certify again later)."""
    db = _db(config)
    job = Job.select().where(Job.id == job_id).bind(db).first()
    if job is None:
        console.print(f"no job {job_id}")
        return 1
    if job.kind != "rotate_certificate":
        console.print(f"job {job_id} is a {job.kind}, not a rotate_certificate")
        return 1
    ca = pki.load_authority(Path(config.pki.dir), passphrase("online"))
    targets = [t.terminal_id for t in JobTarget.select().where(JobTarget.job == job_id).bind(db)]
    pending, failures = set(targets), 0
    deadline = time.monotonic() + wait
    while True:
        for tid in sorted(pending):
            outcome = _certify_one(config, db, ca, job, tid, expires, console)
            if outcome != "waiting":
                pending.discard(tid)
                failures += outcome in ("refused", "not sent")
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if pending:
        console.print(
            f"no certificate request yet from {', '.join(sorted(pending))}: run "
            f"`pos-fleet jobs certify {job_id}` once they answered"
        )
    return 1 if failures else 0


def _certify_one(config, db, ca: pki.Authority, job: Job, tid: str, expires, console) -> str:
    """``waiting`` (no request yet), ``done`` (nothing to do: signed before, or the job
    ended), ``sent``, ``refused`` or ``not sent``."""
    step = (
        JobProgress.select()
        .where((JobProgress.job == job.id) & (JobProgress.terminal_id == tid))
        .bind(db)
        .first()
    )
    if step is None or not step.csr:
        target = (
            JobTarget.select()
            .where((JobTarget.job == job.id) & (JobTarget.terminal_id == tid))
            .bind(db)
            .first()
        )
        return "done" if target and target.state in fp.FINAL_JOB_STATES else "waiting"
    if step.certificate_job or step.refused:
        return "done"
    where = (JobProgress.job == job.id) & (JobProgress.terminal_id == tid)
    try:
        certificate = sign_request(ca, tid, step.csr)
    except ValueError as exc:
        JobProgress.update(refused=str(exc)[:500]).where(where).execute(db)
        console.print(f"{tid}: certificate request refused, nothing sent: {exc}")
        return "refused"
    serial = format(certificate.serial_number, "x")
    install_id = f"c-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    issued = datetime.now(UTC).replace(microsecond=0)
    pem = pki.certificate_pem(certificate).decode()
    payload = _job_bytes(install_id, "install_certificate", issued, expires, job.id, pem)
    naive = issued.replace(tzinfo=None)
    with write_transaction(db):
        Job.insert(
            id=install_id,
            kind="install_certificate",
            text=job.id,
            target=sc.Scope("terminal", tid).label,
            issued_at=naive,
            expires_at=naive + expires,
        ).execute(db)
        JobTarget.insert(job=install_id, terminal_id=tid).execute(db)
        JobProgress.update(certificate_job=install_id, serial=serial).where(where).execute(db)
    try:
        with Publisher(_broker(config)) as publisher:
            publisher.publish(fp.topic(tid, "down/job", install_id), payload, retain=True)
    except PublishError as exc:
        JobProgress.update(certificate_job=None, serial="").where(where).execute(db)
        console.print(f"{tid}: certificate {serial} not sent ({exc}); run certify again")
        return "not sent"
    console.print(f"{tid}: certificate {serial} sent as job {install_id}")
    return "sent"


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
    steps = {
        step.terminal_id: step
        for step in JobProgress.select().where(JobProgress.job == job.id).bind(db)
    }
    rows = JobTarget.select().where(JobTarget.job == job.id).order_by(JobTarget.terminal_id)
    for row in rows.bind(db):
        step = steps.get(row.terminal_id)
        state = row.state or "no answer yet"
        if row.state == "running" and step is not None and step.progress is not None:
            state = f"running {step.progress}%"
        colour = STATE_COLOUR.get(row.state or "", "")
        data = json.loads(row.data_json or "{}")
        shown = ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
        table.add_row(
            row.terminal_id,
            groups.get(row.terminal_id, ""),
            f"[{colour}]{state}[/]" if colour else state,
            escape(row.detail + _certificate_note(step)),  # (the terminal's text: no markup)
            escape(shown),
            row.ts,
        )
    console.print(table)
    return 0


def _certificate_note(step: JobProgress | None) -> str:
    if step is None or not step.csr:
        return ""
    if step.refused:
        return f" (request refused: {step.refused})"
    if step.certificate_job:
        return f" (certificate {step.serial} sent as job {step.certificate_job})"
    return " (request received, not certified yet)"
