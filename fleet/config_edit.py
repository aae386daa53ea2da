"""``pos-fleet config edit --group G``: change a scope's document in an editor, see the
difference, and push it in waves as the next version.

The newest document signed for the scope is written as TOML to a file of its own (0600,
in a private temporary directory), opened in ``$VISUAL`` or ``$EDITOR`` (default
``vi``), read back and checked as ``config push`` checks a file. An unchanged file
pushes nothing. The difference against the newest version is shown as a unified diff of
the TOML, and the push waits for a ``y`` (``--yes`` for scripts). A file that does not
pass is kept, with its path, so nothing typed is lost: fix it and ``config push`` it.
"""

from __future__ import annotations

import difflib
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import tomli_w
from rich.console import Console

from fleet import rollout as rollouts
from fleet import signing as fleet_signing

HEADER = (
    "# pos-fleet config edit: {label}, {what}.\n"
    "# Save and quit to see the difference and push it as the next version; a file left\n"
    "# as it is pushes nothing. The shop's sections as in config/pos.toml, [[products]],\n"
    "# [[cashiers]] and [passkeys] (their PINs and codes: pos-fleet secret set).\n\n"
)


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def as_toml(document: dict) -> str:
    """The document as TOML an admin reads and edits: tables as tomli-w writes them, and
    each top-level list of flat tables (``[[products]]``, ``[[cashiers]]``) one
    ``[[...]]`` table per entry, a field a line, whatever their length (tomli-w would
    put short ones on one line each, so a price change would be a whole line's)."""
    lists = {
        key: value
        for key, value in document.items()
        if isinstance(value, list)
        and value
        and all(
            isinstance(entry, dict) and not any(isinstance(v, dict) for v in entry.values())
            for entry in value
        )
    }
    rest = {key: value for key, value in document.items() if key not in lists}
    parts = [tomli_w.dumps(rest)] if rest else []
    for key, entries in lists.items():
        parts += [f"[[{key}]]\n{tomli_w.dumps(entry)}" for entry in entries]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def current_document(db, scope) -> tuple[dict, str]:
    """The newest document signed for ``scope`` and a phrase saying which."""
    signed = rollouts.documents(db, scope)
    if not signed:
        return {}, "no document yet"
    newest = signed[0]
    return rollouts.document_of(newest.envelope), f"version {newest.version} as signed"


def edit(db, scope, console: Console, *, yes: bool) -> dict | None:
    """The edited document to push, or None (unchanged, refused, or not confirmed).
    Raises SigningError for a file that does not pass (the message names the file)."""
    before, what = current_document(db, scope)
    text = as_toml(before)
    directory = Path(tempfile.mkdtemp(prefix="pos-fleet-edit-"))
    path = directory / f"{scope.label.replace(':', '-')}.toml"
    path.write_text(HEADER.format(label=scope.label, what=what) + text)
    path.chmod(0o600)
    status = subprocess.run([*editor_command(), str(path)], check=False).returncode
    if status != 0:
        console.print(f"the editor ended with status {status}: nothing pushed (kept in {path})")
        return None
    try:
        after = fleet_signing.read_document(path)
    except fleet_signing.SigningError as exc:
        raise fleet_signing.SigningError(
            f"{exc}; your edit is kept in {path}: fix it and `pos-fleet config push "
            f"--scope {scope.label} {path}`"
        ) from None
    if after == before:
        console.print(f"{scope.label}: no change; nothing pushed")
        path.unlink()
        directory.rmdir()
        return None
    diff = difflib.unified_diff(
        text.splitlines(),
        as_toml(after).splitlines(),
        f"{scope.label} ({what})",
        f"{scope.label} (edited)",
        lineterm="",
    )
    console.print("\n".join(diff), markup=False, highlight=False)
    if not yes:
        if not sys.stdin.isatty():
            console.print(f"not confirmed (no terminal; --yes pushes): kept in {path}")
            return None
        if input(f"push this to {scope.label}? [y/N] ").strip().lower() not in ("y", "yes"):
            console.print(f"nothing pushed; your edit is kept in {path}")
            return None
    path.unlink()
    directory.rmdir()
    return after
