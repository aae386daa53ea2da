"""The tables between the agent and the app for the fleet's configuration: the key list
and revoked ids, the applied versions (merged per scope), the newest waiting bundle, the
statuses to publish and to journal; seen by a second connection as the agent's is."""

from __future__ import annotations

from datetime import UTC, datetime

from terminal.store import fleet_config
from terminal.store.db import open_beside
from terminal.store.fleet_config import Applied

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_a_new_terminal_trusts_nothing_and_waits_for_nothing(closed_terminal):
    db = closed_terminal.pos.db
    held = fleet_config.state(db)
    assert (held.key_list, held.revoked, held.applied, held.last_bundle) == (None, [], {}, "")
    assert fleet_config.waiting_bundle(db) is None and fleet_config.all_statuses(db) == []


def test_the_agent_writes_and_the_app_reads(closed_terminal):
    app = closed_terminal.pos.db
    agent = open_beside(
        closed_terminal.pos.settings.database_path, closed_terminal.keys.key("database")
    )
    try:
        fleet_config.set_key_list(agent, b"{envelope}", ["b" * 16, "a" * 16, "a" * 16])
        first = fleet_config.put_bundle(agent, b"one", AT)
        second = fleet_config.put_bundle(agent, b"two", AT)
        refused = fleet_config.add_status(agent, b'{"result":"refused"}', journaled=False)
        held = fleet_config.state(app)
        assert held.key_list == b"{envelope}" and held.revoked == ["a" * 16, "b" * 16]
        waiting = fleet_config.waiting_bundle(app)
        assert (waiting.id, waiting.bundle) == (second, b"two")  # the newest only
        fleet_config.take_bundles(app, waiting.id)
        assert fleet_config.waiting_bundle(agent) is None and first < second

        assert [r.id for r in fleet_config.unjournaled_statuses(app)] == [refused]
        fleet_config.set_journaled(app, refused)
        assert fleet_config.unjournaled_statuses(app) == []
        assert [r.id for r in fleet_config.unsent_statuses(agent)] == [refused]
        fleet_config.set_sent(agent, refused)
        assert fleet_config.unsent_statuses(app) == []
    finally:
        agent.close()


def test_applied_versions_merge_per_scope(closed_terminal):
    db = closed_terminal.pos.db
    fleet_config.set_applied(db, {"fleet": Applied(3, "a" * 64), "group:n": Applied(1, "b")}, AT)
    fleet_config.set_applied(db, {"fleet": Applied(4, "c" * 64)}, AT)
    held = fleet_config.state(db)
    assert held.applied == {"fleet": Applied(4, "c" * 64), "group:n": Applied(1, "b")}
    assert held.applied_at == "2026-11-23T03:00:00+00:00"
