"""The admin subcommands of ``pos-terminal``: they work on the store, never start the UI."""

from __future__ import annotations

import base64
import getpass
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from terminal.config import Settings
from terminal.core.clock import system_clock
from terminal.store import backup as backups
from terminal.store import transfer
from terminal.store.cashiers import PinHasher, add_cashier, set_pin
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.keystore import FileKeyStore
from terminal.store.migrate import encrypt_plaintext_database
from terminal.store.sealing import Sealer


def _journal(settings: Settings) -> Journal:
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    db = open_database(settings.database_path, keys.key("database"))
    return Journal(db, settings.terminal_id, keys.journal_private_key())


def journal_verify(settings: Settings, *, public_key_only: bool = False) -> int:
    verdict = _journal(settings).verify(public_key_only=public_key_only)
    print(verdict)
    return 0 if verdict.ok else 1


def journal_export(settings: Settings, out_dir: Path) -> int:
    journal = _journal(settings)
    verdict = journal.verify()
    path, count = journal.export(out_dir)
    print(f"{count} entries written to {path}")
    print(f"public key: {out_dir / 'journal-public-key.pem'}")
    print("verify elsewhere with: python verify_journal.py journal.jsonl journal-public-key.pem")
    if not verdict.ok:
        print(f"WARNING: {verdict}")
        return 1
    return 0


def db_migrate(settings: Settings, keep_plaintext: bool) -> int:
    """Encrypt the plaintext database of an older installation, then journal it."""
    keys = FileKeyStore.open_or_create(settings.security.key_dir)
    counts = encrypt_plaintext_database(
        settings.database_path, keys.key("database"), keep_plaintext=keep_plaintext
    )
    db = open_database(settings.database_path, keys.key("database"))
    journal = Journal(db, settings.terminal_id, keys.journal_private_key())
    journal.append(
        "config_change", {"change": "database encrypted", "rows": counts}, system_clock()
    )
    for table, count in counts.items():
        print(f"{table:>16}: {count} rows")
    print(f"{settings.database_path} is now encrypted with the key in {settings.security.key_dir}")
    return 0


def keys_recovery_export(settings: Settings, out: Path) -> int:
    if not settings.security.recovery_public_key:
        print("security.recovery_public_key is not set in the configuration")
        return 2
    recipient = X25519PublicKey.from_public_bytes(
        base64.b64decode(settings.security.recovery_public_key)
    )
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    out.write_bytes(keys.export_recovery(recipient))
    print(f"key store encrypted to the recovery key: {out}")
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)


def backup(settings: Settings, target: Path | None) -> int:
    """Online backup: the terminal may keep selling while it runs."""
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    db = open_database(settings.database_path, keys.key("database"))
    target = target or settings.data_dir / "backups"
    if target.suffix != backups.SUFFIX:
        target.mkdir(parents=True, exist_ok=True)
    info = backups.backup(
        db.connection(),
        keys.key("database"),
        target,
        keys.journal_public_key(),
        settings.terminal_id,
        _progress,
    )
    db.close()
    print(f"backup written and checked: {info.path}")
    print(
        f"  {info.sales} sales (last number {info.last_number}), "
        f"{info.journal_entries} journal entries, journal verified"
    )
    return 0


def restore(settings: Settings, source: Path) -> int:
    """Replace the database with a checked backup; the replaced file is kept."""
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    key = keys.key("database")
    used_before = (
        backups.highest_number(settings.database_path, key)
        if settings.database_path.exists()
        else None
    )
    info, kept = backups.restore(source, settings.database_path, key, keys.journal_public_key())
    db = open_database(settings.database_path, key)
    journal = Journal(db, settings.terminal_id, keys.journal_private_key())
    payload = {
        "restored_from": source.name,
        "sales": info.sales,
        "journal_entries": info.journal_entries,
        "replaced_file_kept_as": kept.name if kept else None,
    }
    with db.atomic():
        if used_before and used_before > info.last_number:
            # receipts up to `used_before` may be in customers' hands: never issue them again
            db.execute_sql(
                "UPDATE counter SET last_number = ? WHERE terminal_id = ?",
                (used_before, settings.terminal_id),
            )
            payload["numbers_not_in_backup"] = [info.last_number + 1, used_before]
        journal.append("correction", payload, system_clock())
    db.close()
    print(
        f"restored {source.name}: {info.sales} sales, {info.journal_entries} journal "
        "entries, journal verified"
    )
    if kept:
        print(f"the replaced database is kept as {kept}")
    if "numbers_not_in_backup" in payload:
        first, last = payload["numbers_not_in_backup"]
        print(
            f"WARNING: sales {first}-{last} were made after this backup and are not in it; "
            f"numbering continues at {last + 1} so no number is issued twice"
        )
    return 0


def _secret(prompt: str, *, confirm: bool = False) -> str:
    """A passphrase or PIN: typed without echo at a terminal, or one line on stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != first:
        raise SystemExit("the two entries differ; nothing was done")
    return first


def _open(settings: Settings):
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    db = open_database(settings.database_path, keys.key("database"))
    return keys, db, Journal(db, settings.terminal_id, keys.journal_private_key())


def export(settings: Settings, target: Path) -> int:
    keys, db, journal = _open(settings)
    passphrase = _secret("export passphrase (12 characters or more): ", confirm=True)
    info = transfer.export_bundle(
        db,
        Sealer(keys.key("sealing")),
        journal,
        settings.terminal_id,
        target,
        passphrase,
        _progress,
    )
    print(f"exported to {target}: " + ", ".join(f"{n} {t}" for t, n in info.counts.items()))
    return 0


def import_(settings: Settings, source: Path) -> int:
    keys, db, journal = _open(settings)
    passphrase = _secret("export passphrase: ")
    info = transfer.import_bundle(
        source, passphrase, db, Sealer(keys.key("sealing")), journal, _progress
    )
    print(
        f"imported from terminal {info.source_terminal}: "
        + ", ".join(f"{n} {t}" for t, n in info.counts.items())
    )
    if info.counts.get("cashier"):
        print("cashiers are inactive until each gets a new PIN: pos-terminal cashier set-pin ID")
    return 0


def cashier_add(settings: Settings, cashier_id: int, name: str, role: str) -> int:
    keys, _db, journal = _open(settings)
    pin = _secret(f"new PIN for {name}: ", confirm=True)
    cashier = add_cashier(PinHasher(keys.key("pin_pepper")), cashier_id, name, role, pin)
    journal.append(
        "config_change",
        {"change": "cashier added", "cashier": cashier.id, "role": role},
        system_clock(),
    )
    print(f"cashier {cashier.id} {cashier.name} ({cashier.role}) added")
    return 0


def cashier_set_pin(settings: Settings, cashier_id: int) -> int:
    keys, _db, journal = _open(settings)
    pin = _secret(f"new PIN for cashier {cashier_id}: ", confirm=True)
    cashier = set_pin(PinHasher(keys.key("pin_pepper")), cashier_id, pin)
    journal.append(
        "config_change", {"change": "cashier PIN set", "cashier": cashier.id}, system_clock()
    )
    print(f"new PIN set for cashier {cashier.id} {cashier.name}")
    return 0


def cashier_list(settings: Settings) -> int:
    _keys, db, _journal = _open(settings)
    for cid, name, role, active in db.execute_sql(
        "SELECT id, name, role, active FROM cashier ORDER BY id"
    ):
        print(f"{cid:>6}  {name:<24} {role:<10} {'active' if active else 'needs a PIN'}")
    return 0
