"""Journal: each terminal's chain as the fleet holds it, its verification on demand, and an
export for auditors: a ZIP with the entries (JSON lines, as ``pos-terminal journal
export`` writes them), the terminal's public keys and the offline verifier
(``verify_journal.py``, the terminal's own ``journal_format`` module), which needs only
Python and ``cryptography``."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from peewee import fn
from starlette.responses import Response
from starlette.routing import Route

from fleet.console.web import Context, page
from fleet.export import _document, _held
from fleet.models import Entry, Quarantine, Terminal, TerminalKey
from fleet.reports import verify_chain

VERIFIER = Path(__file__).resolve().parents[3] / "terminal" / "store" / "journal_format.py"
RECENT = 50


@page("journal")
def journal(ctx: Context) -> Response:
    terminals = list(
        Terminal.select()
        .where(ctx.viewer.stores_clause(Terminal.store))
        .order_by(Terminal.store, Terminal.id)
        .bind(ctx.db)
    )
    ids = [t.id for t in terminals]
    quarantined = dict(
        Quarantine.select(Quarantine.terminal_id, fn.COUNT(Quarantine.id))
        .where(Quarantine.terminal_id.in_(ids or [""]))
        .group_by(Quarantine.terminal_id)
        .tuples()
        .bind(ctx.db)
    )
    return ctx.render("journal.html", terminals=terminals, quarantined=quarantined)


@page("journal")
def journal_terminal(ctx: Context, terminal_id: str) -> Response:
    terminal = ctx.viewer.require_terminal(ctx.db, terminal_id)
    verdict = verify_chain(ctx.db, terminal.id) if ctx.request.query_params.get("verify") else None
    recent = list(
        Entry.select(Entry.seq, Entry.epoch, Entry.type, Entry.ts, Entry.grand_total, Entry.hash)
        .where(Entry.terminal_id == terminal.id)
        .order_by(Entry.seq.desc())
        .limit(RECENT)
        .bind(ctx.db)
    )
    return ctx.render("journal_terminal.html", terminal=terminal, verdict=verdict, recent=recent)


@page("journal")
def journal_export(ctx: Context, terminal_id: str) -> Response:
    terminal = ctx.viewer.require_terminal(ctx.db, terminal_id)
    keys = list(TerminalKey.select().where(TerminalKey.terminal_id == terminal.id).bind(ctx.db))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        lines = (
            json.dumps(_document(entry), sort_keys=True, ensure_ascii=False) + "\n"
            for entry in _held(ctx.db, terminal.id, terminal.acked_seq)
        )
        archive.writestr("journal.jsonl", "".join(lines))
        names = []
        for key in keys:
            name = f"journal-public-key-{key.key_id}.pem"
            archive.writestr(name, key.public_key_pem)
            names.append(name)
        archive.write(VERIFIER, "verify_journal.py")
        head = f"{terminal.acked_seq}:{terminal.acked_hash}"
        archive.writestr(
            "README.txt",
            f"The journal of terminal {terminal.id} ({terminal.store}) as the fleet holds it,\n"
            f"up to seq {terminal.acked_seq}. Verify it (Python 3 with `cryptography`):\n\n"
            f"    python verify_journal.py journal.jsonl {' '.join(names)} --head {head}\n",
        )
    name = f"journal-{terminal.id}-{terminal.acked_seq}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [
    Route("/journal", journal),
    Route("/journal/{terminal_id}", journal_terminal),
    Route("/journal/{terminal_id}/export.zip", journal_export),
]
