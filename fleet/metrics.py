"""Prometheus metrics of the fleet, in the text exposition format (version 0.0.4), so the
monitoring an operator already runs can scrape them:

- from the fleet database (the console's ``/metrics`` and the ingest's endpoint alike):
  terminals registered and online, entries the terminals made that the fleet does not
  hold yet (the ingest's lag, in entries) and the seconds since the newest entry was
  stored, open alerts, terminals whose last configuration was refused;
- from an ingest process (``pos-fleet serve --metrics HOST:PORT``): its counters since
  it started, entries stored (``rate()`` of it is entries per second), duplicates,
  quarantined, malformed messages, alerts raised.

Written by hand: the format is a few lines of text, and the official client would add a
dependency and a registry for what one function does here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import peewee
from peewee import fn

from fleet.models import Alert, Entry, Terminal, TerminalConfig

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Sample = tuple[str, str, str, float]  # name, help, type, value


def fleet_samples(db: peewee.Database, now: datetime) -> list[Sample]:
    terminals = Terminal.select().bind(db).count()
    online = Terminal.select().where(Terminal.status == "online").bind(db).count()
    behind = Terminal.reported_head - Terminal.acked_seq
    unsent = (
        Terminal.select(fn.COALESCE(fn.SUM(peewee.Case(None, [(behind > 0, behind)], 0)), 0))
        .bind(db)
        .scalar()
    )
    newest = Entry.select(fn.MAX(Entry.stored_at)).bind(db).scalar()
    if isinstance(newest, str):  # (SQLite may hand an aggregate back as its text)
        newest = datetime.fromisoformat(newest)
    since = (now - newest).total_seconds() if newest else -1
    alerts = Alert.select().where(Alert.resolved == False).bind(db).count()  # noqa: E712
    refused = TerminalConfig.select().where(TerminalConfig.result == "refused").bind(db).count()
    return [
        ("pos_fleet_terminals", "Terminals registered.", "gauge", terminals),
        ("pos_fleet_terminals_online", "Terminals online now.", "gauge", online),
        (
            "pos_fleet_unsent_entries",
            "Journal entries the terminals made that the fleet does not hold yet.",
            "gauge",
            int(unsent or 0),
        ),
        (
            "pos_fleet_seconds_since_last_entry",
            "Seconds since the newest entry was stored (-1: none yet).",
            "gauge",
            round(since, 3),
        ),
        ("pos_fleet_open_alerts", "Alerts not resolved.", "gauge", alerts),
        (
            "pos_fleet_configurations_refused",
            "Terminals whose last configuration was refused.",
            "gauge",
            refused,
        ),
    ]


INGEST_COUNTERS = {
    "stored": ("pos_fleet_ingest_entries_stored_total", "Journal entries stored."),
    "duplicates": ("pos_fleet_ingest_duplicates_total", "Entries received again."),
    "quarantined": ("pos_fleet_ingest_quarantined_total", "Entries refused and kept aside."),
    "bad message": ("pos_fleet_ingest_bad_messages_total", "Malformed messages refused."),
    "config status": ("pos_fleet_ingest_config_statuses_total", "Configuration statuses."),
    "events": ("pos_fleet_ingest_events_total", "Device events and signals received."),
}


def ingest_samples(stats: Counter) -> list[Sample]:
    samples: list[Sample] = [
        (name, text, "counter", stats.get(key, 0)) for key, (name, text) in INGEST_COUNTERS.items()
    ]
    alerts = sum(v for k, v in stats.items() if k.startswith("alert "))
    samples.append(("pos_fleet_ingest_alerts_total", "Alerts raised.", "counter", alerts))
    return samples


def render(samples: list[Sample]) -> str:
    lines = []
    for name, text, kind, value in samples:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"


def serve(address: str, samples: Callable[[], list[Sample]]) -> ThreadingHTTPServer:
    """An HTTP endpoint (``/metrics``) on ``host:port`` in a daemon thread."""
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = render(samples()).encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:  # scrapes are not logged
            return

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
