"""The shop's configuration documents, one row per version; the highest is in force.

A document is the shop's sections of the configuration (store, taxes, scale labels, key
map, approval, fraud, loyalty) as JSON, and optionally products to add or change. Each
version is kept: a report of any past day can say which rules were in force.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import Database

TABLE = "shop_config"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    document TEXT NOT NULL)"""


@dataclass(frozen=True)
class ShopConfig:
    version: int
    applied_at: str
    source: str
    sha256: str
    document: dict[str, Any]


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def create(db: Database) -> None:
    db.execute_sql(SCHEMA)


def current(db: Database) -> ShopConfig | None:
    """The configuration in force (the highest version), or None before the first."""
    row = db.execute_sql(
        f"SELECT version, applied_at, source, sha256, document FROM {TABLE}"
        " ORDER BY version DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return ShopConfig(row[0], row[1], row[2], row[3], json.loads(row[4]))


def save(db: Database, document: dict[str, Any], source: str, at: datetime) -> ShopConfig:
    """Keep ``document`` as the next version. Call inside the transaction that applies it."""
    text = canonical(document)
    last = db.execute_sql(f"SELECT IFNULL(MAX(version), 0) FROM {TABLE}").fetchone()[0]
    config = ShopConfig(
        last + 1,
        at.astimezone(UTC).isoformat(timespec="seconds"),
        source,
        hashlib.sha256(text.encode()).hexdigest(),
        json.loads(text),
    )
    db.execute_sql(
        f"INSERT INTO {TABLE} (version, applied_at, source, sha256, document)"
        " VALUES (?, ?, ?, ?, ?)",
        (config.version, config.applied_at, source, config.sha256, text),
    )
    return config
