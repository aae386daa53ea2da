"""The key the online orders' personal data is sealed with: ``orders.key`` (32 random
bytes, 0600) in the signing directory, made at the first start. Whoever holds the fleet's
database without that directory reads no customer's name, phone or address."""

from __future__ import annotations

import os
from pathlib import Path

from terminal.core.sealing import Sealer

KEY_FILE = "orders.key"


def orders_sealer(signing_dir: Path) -> Sealer:
    path = Path(signing_dir) / KEY_FILE
    if not path.exists():  # made aside, then linked in: two first starts agree on one key
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # the other one's key stands
        finally:
            aside.unlink()
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path}: not an orders key (32 bytes)")
    return Sealer(key)
