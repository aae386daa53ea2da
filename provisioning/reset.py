"""``pos-provision reset``: a terminal made ready for another first boot.

Refused while journal entries are not at the fleet yet (the agent's mark below the
journal's head), unless ``--force``; either way the journal is exported first (the
entries and the public keys, verifiable off-line), so a forced reset loses nothing.

- **re-enroll** (the default): the records, the keys and the journal stay; a new journal
  epoch begins (its first entry names the last one, so the fleet's copy shows the
  break), and the terminal's fleet certificate, CA and root key and its ``enrolled``
  mark go. The next boot enrolls it again with a new card (a new token: another store
  or group, a new fleet). Its records carry on under the same terminal id.
- **wipe**: the database, the key store, the fleet files, the configuration and the mark
  go. The terminal is blank. Its old records exist only in the export and at the fleet:
  enroll it under a new terminal id, or as this terminal's replacement with
  ``pos-terminal restore --from-fleet`` before its first start (the same id with new
  keys and a journal from epoch 1 would be refused by the fleet, which holds that
  epoch already).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from provisioning.firstboot import ENROLLED, FLEET_FILES
from terminal.config import Settings
from terminal.services.bootstrap import protector_for
from terminal.store import continuity, outbox


class ResetRefused(Exception):
    """Not reset: why, and what to do."""


@dataclass(frozen=True)
class ResetDone:
    mode: str
    export: Path
    unsent: int
    epoch: int | None = None  # re-enroll: the new epoch


def reset(
    settings: Settings,
    config_path: Path,
    *,
    wipe: bool,
    force: bool,
    export_to: Path | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ResetDone:
    at = now()
    store = continuity.open_store(
        settings.security.key_dir,
        protector_for(settings.security),
        settings.database_path,
        settings.terminal_id,
        at,
    )
    try:
        unsent = outbox.unsent(store.db)
        if unsent and not force:
            raise ResetRefused(
                f"{unsent} journal entries are not at the fleet yet: connect the terminal "
                "and let its agent send them, or reset with --force (they are exported first)"
            )
        target = export_to or settings.data_dir / "exports" / f"reset-{at:%Y%m%d-%H%M%S}"
        target.mkdir(parents=True, exist_ok=True)
        path, _count = store.journal.export(target)
        epoch = None
        if not wipe:
            entry = continuity.begin_epoch_after_loss(
                store,
                "re-enroll",
                [],
                [],
                at,
                unsent_at_reset=unsent,
                exported_to=str(path),
            )
            epoch = entry.epoch
    finally:
        store.db.close()
    files = settings.data_dir / FLEET_FILES
    shutil.rmtree(files, ignore_errors=True)
    (settings.data_dir / ENROLLED).unlink(missing_ok=True)
    if wipe:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(settings.security.key_dir, ignore_errors=True)
        config_path.unlink(missing_ok=True)
    return ResetDone("wipe" if wipe else "re-enroll", target, unsent, epoch)
