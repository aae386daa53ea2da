"""Prometheus metrics: the fleet's figures from its database (what the console's
``/metrics`` serves to the addresses allowed) and an ingest's counters (its own endpoint),
in the text format Prometheus reads."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from fleet import metrics
from fleet.config import ConsoleSettings
from fleet.console.app import create_app
from fleet.models import Terminal
from tests.fleet.test_central import ingest_days
from tests.mosquitto import free_port

LINE = re.compile(r"^(# (HELP|TYPE) \w+ .+|\w+ -?[0-9.]+)$")


def values(text: str) -> dict[str, float]:
    assert all(LINE.match(line) for line in text.splitlines()), text
    return {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if not line.startswith("#")
    }


def test_the_fleet_figures_from_the_database(fleet_db, ingest, shop_days):
    ingest_days(fleet_db, ingest, shop_days, 100)
    Terminal.update(status="online", reported_head=Terminal.acked_seq + 7).execute(fleet_db)
    found = values(
        metrics.render(metrics.fleet_samples(fleet_db, datetime.now(UTC).replace(tzinfo=None)))
    )
    assert found["pos_fleet_terminals"] == 1
    assert found["pos_fleet_terminals_online"] == 1
    assert found["pos_fleet_unsent_entries"] == 7
    assert found["pos_fleet_seconds_since_last_entry"] >= 0
    assert found["pos_fleet_open_alerts"] == 0
    assert found["pos_fleet_configurations_refused"] == 0
    counters = values(metrics.render(metrics.ingest_samples(ingest.stats)))
    assert counters["pos_fleet_ingest_entries_stored_total"] == len(shop_days.entries)


def test_the_console_serves_metrics_only_to_the_addresses_allowed(fleet_db):
    closed = TestClient(create_app(fleet_db, ConsoleSettings()))
    assert closed.get("/metrics").status_code == 403  # the test client is not 127.0.0.1
    allowed = ConsoleSettings(metrics_from=["testclient"])
    got = TestClient(create_app(fleet_db, allowed)).get("/metrics")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
    assert values(got.text)["pos_fleet_terminals"] == 0


def test_an_ingest_endpoint_serves_its_counters():
    stats = Counter({"stored": 12, "duplicates": 1, "alert gap": 2})
    address = f"127.0.0.1:{free_port()}"
    server = metrics.serve(address, lambda: metrics.ingest_samples(stats))
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
            found = values(response.read().decode())
        assert found["pos_fleet_ingest_entries_stored_total"] == 12
        assert found["pos_fleet_ingest_alerts_total"] == 2
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{address}/other", timeout=5)
    finally:
        server.shutdown()
