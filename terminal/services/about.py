"""What a technician or a supervisor reads about this terminal (F8 > About this terminal):
its id and software, the shop configuration in force (its version, where it came from,
when it was applied, and the fleet's versions per scope), the journal's head, and the
link to the fleet."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from terminal.services.fleet_link import FleetStatus
from terminal.store import fleet_config, shop_config
from terminal.store.journal import head


def software_version() -> str:
    """``pos-terminal 0.1.0`` (the installed package's version)."""
    try:
        return f"pos-terminal {metadata.version('pos-terminal')}"
    except metadata.PackageNotFoundError:
        return "pos-terminal"


@dataclass(frozen=True)
class About:
    terminal_id: str
    store: str
    software: str
    config_version: int | None  # the shop configuration in force (None: the file's, unsaved)
    config_source: str  # "configuration file", "pos-terminal config apply", "fleet ..."
    config_applied_at: str  # ISO, UTC
    fleet_versions: dict[str, int]  # per scope ("fleet", "group:north"), from the fleet
    journal_seq: int | None
    journal_epoch: int | None
    journal_hash: str  # as printed on receipts (8 characters)
    fleet: FleetStatus


def about(pos) -> About:
    config = shop_config.current(pos.db)
    applied = fleet_config.state(pos.db).applied
    last = head(pos.db)
    return About(
        terminal_id=pos.settings.terminal_id,
        store=pos.settings.store.name,
        software=software_version(),
        config_version=config.version if config else None,
        config_source=config.source if config else "",
        config_applied_at=config.applied_at if config else "",
        fleet_versions={scope: a.version for scope, a in sorted(applied.items())},
        journal_seq=last.seq if last else None,
        journal_epoch=last.epoch if last else None,
        journal_hash=last.short_hash if last else "",
        fleet=pos.fleet.status(),
    )
