"""Terminals: online or offline and since when, unsent entries, device health, software
and configuration versions, the last Z report, and the alerts with their time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from peewee import fn
from starlette.responses import Response
from starlette.routing import Route

from fleet.console.web import Context, page
from fleet.ingest import DEVICE_KINDS
from fleet.models import Alert, DeviceEvent, Terminal, TerminalConfig, ZReport

# device events that say something is wrong (until the same device's device_ok)
DEVICE_TROUBLE = DEVICE_KINDS


@dataclass
class TerminalRow:
    terminal: Terminal
    versions: dict[str, int] = field(default_factory=dict)
    config_result: str = ""
    config_reason: str = ""
    last_z: ZReport | None = None
    trouble: list[str] = field(default_factory=list)  # device kinds wrong now
    alerts: int = 0


def terminal_rows(ctx: Context, store: str | None) -> list[TerminalRow]:
    db, viewer = ctx.db, ctx.viewer
    query = Terminal.select().where(viewer.stores_clause(Terminal.store))
    if store:
        query = query.where(Terminal.store == viewer.require_store(store))
    rows = {t.id: TerminalRow(t) for t in query.order_by(Terminal.store, Terminal.id).bind(db)}
    ids = sorted(rows)
    if not ids:
        return []
    for status in TerminalConfig.select().where(TerminalConfig.terminal_id.in_(ids)).bind(db):
        row = rows[status.terminal_id]
        row.versions = json.loads(status.versions_json or "{}")
        row.config_result, row.config_reason = status.result, status.reason
    last = (
        ZReport.select(ZReport.terminal_id, fn.MAX(ZReport.number))
        .where(ZReport.terminal_id.in_(ids))
        .group_by(ZReport.terminal_id)
        .tuples()
        .bind(db)
    )
    for tid, number in last:
        rows[tid].last_z = (
            ZReport.select()
            .where((ZReport.terminal_id == tid) & (ZReport.number == number))
            .order_by(ZReport.seq.desc())
            .bind(db)
            .first()
        )
    newest = (
        DeviceEvent.select(DeviceEvent.terminal_id, DeviceEvent.device, fn.MAX(DeviceEvent.id))
        .where(DeviceEvent.terminal_id.in_(ids))
        .group_by(DeviceEvent.terminal_id, DeviceEvent.device)
        .tuples()
        .bind(db)
    )
    latest_ids = [event_id for _tid, _device, event_id in newest]
    if latest_ids:
        for event in DeviceEvent.select().where(DeviceEvent.id.in_(latest_ids)).bind(db):
            if event.kind in DEVICE_TROUBLE:
                rows[event.terminal_id].trouble.append(event.kind)
    open_alerts = (
        Alert.select(Alert.terminal_id, fn.COUNT(Alert.id))
        .where(Alert.terminal_id.in_(ids) & (Alert.resolved == False))  # noqa: E712
        .group_by(Alert.terminal_id)
        .tuples()
        .bind(db)
    )
    for tid, count in open_alerts:
        rows[tid].alerts = count
    return list(rows.values())


def recent_alerts(ctx: Context, store: str | None, limit: int = 50) -> list[Alert]:
    visible = Terminal.select(Terminal.id).where(ctx.viewer.stores_clause(Terminal.store))
    if store:
        visible = visible.where(Terminal.store == ctx.viewer.require_store(store))
    return list(
        Alert.select()
        .where(Alert.terminal_id.in_(visible))
        .order_by(Alert.resolved, Alert.at.desc())
        .limit(limit)
        .bind(ctx.db)
    )


@page("terminals")
def terminals(ctx: Context) -> Response:
    store = ctx.request.query_params.get("store") or None
    rows = terminal_rows(ctx, store)
    now: datetime = ctx.now()
    return ctx.render(
        "terminals.html",
        rows=rows,
        stores=ctx.viewer.visible_stores(ctx.db),
        store=store or "",
        alerts=recent_alerts(ctx, store),
        now=now,
    )


ROUTES = [Route("/terminals", terminals)]
