"""The passphrases the fleet's private keys are encrypted with, where an installation
gives them: never on the command line, never in a configuration file, never logged.

Two kinds: ``online`` (the issuing CA that certifies enrolling terminals, the broker's
and the ingest's keys: used unattended by ``pos-fleet serve``) and ``root`` (the offline
roots: the root CA that certifies the issuing CA, the root key that signs the
configuration key lists; used by a person at a machine that is otherwise off-line).

Each is read from the file named by an environment variable (``POS_FLEET_PASSPHRASE_FILE``,
``POS_FLEET_ROOT_PASSPHRASE_FILE``) or, under systemd, from the service's credential of
that name (``LoadCredential=pos-fleet-passphrase:/path``, read from
``$CREDENTIALS_DIRECTORY``). None: no passphrase given (development: keys are written
unencrypted, and an encrypted key cannot be read).
"""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT = {"online": "POS_FLEET_PASSPHRASE_FILE", "root": "POS_FLEET_ROOT_PASSPHRASE_FILE"}
CREDENTIAL = {"online": "pos-fleet-passphrase", "root": "pos-fleet-root-passphrase"}
MIN_LENGTH = 12


class PassphraseError(ValueError):
    """A passphrase file that cannot be used (missing, empty, too short)."""


def passphrase(kind: str) -> bytes | None:
    """The ``kind`` passphrase (its file's first line), or None when none is given."""
    path: Path | None = None
    named = os.environ.get(ENVIRONMENT[kind], "")
    credentials = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if named:
        path = Path(named)
    elif credentials and (Path(credentials) / CREDENTIAL[kind]).exists():
        path = Path(credentials) / CREDENTIAL[kind]
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PassphraseError(f"{path}: {exc.strerror} ({ENVIRONMENT[kind]})") from None
    value = text[0].strip() if text else ""
    if len(value) < MIN_LENGTH:
        raise PassphraseError(
            f"{path}: a key passphrase is at least {MIN_LENGTH} characters ({ENVIRONMENT[kind]})"
        )
    return value.encode()
