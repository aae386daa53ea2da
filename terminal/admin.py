"""The admin subcommands of ``pos-terminal``: they work on the store, never start the UI."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from terminal.config import Settings
from terminal.core.clock import system_clock
from terminal.store.db import open_database
from terminal.store.journal import Journal
from terminal.store.keystore import FileKeyStore
from terminal.store.migrate import encrypt_plaintext_database


def _journal(settings: Settings) -> Journal:
    keys = FileKeyStore.open_existing(settings.security.key_dir)
    db = open_database(settings.database_path, keys.key("database"))
    return Journal(db, settings.terminal_id, keys.journal_private_key())


def journal_verify(settings: Settings) -> int:
    verdict = _journal(settings).verify()
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
