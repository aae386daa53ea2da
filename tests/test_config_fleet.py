"""The [fleet] section: off by default (``make run`` needs no broker), documented in the
shipped file, and every malformed value refused at start with its key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import FleetSettings, load_settings, parse_settings
from terminal.core.errors import ConfigError
from tests.conftest import CONFIG, load_doc

ON = {"enabled": True, "ca_file": "ca.crt", "cert_file": "t01.crt", "key_file": "t01.key"}


def fleet(**table) -> FleetSettings:
    doc = load_doc()
    doc["fleet"] = table
    return parse_settings(doc).fleet


def test_the_shipped_file_has_the_fleet_off_with_the_defaults():
    assert load_settings(CONFIG).fleet == FleetSettings()
    doc = load_doc()
    del doc["fleet"]
    assert parse_settings(doc).fleet == FleetSettings()  # an older file, without the section
    shipped = CONFIG.read_text()
    for key in ("enabled", *(f.name for f in FleetSettings.__dataclass_fields__.values())):
        assert f"\n{key} = " in shipped.split("[fleet]", 1)[1], key  # each key documented


def test_a_fleet_switched_on():
    settings = fleet(
        **ON, host="mqtt.example.com", port=8884, batch_size=500, ack_timeout_seconds=5
    )
    assert settings.enabled and settings.host == "mqtt.example.com" and settings.port == 8884
    assert settings.cert_file == Path("t01.crt") and settings.batch_size == 500
    assert settings.ack_timeout_seconds == 5.0 and settings.max_in_flight == 2000


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"enabled": "yes"}, "fleet.enabled: expected bool"),
        ({"enabled": True}, "fleet.ca_file: a file is needed when enabled"),
        ({**ON, "key_file": ""}, "fleet.key_file: a file is needed when enabled"),
        ({**ON, "host": " "}, "fleet.host: the broker's host name is needed"),
        ({"port": 0}, "fleet.port: must be from 1 to 65535"),
        ({"port": "8883"}, "fleet.port: expected int"),
        ({"batch_size": 0}, "fleet.batch_size: must be from 1 to 1000"),
        ({"batch_size": 5000}, "fleet.batch_size: must be from 1 to 1000"),
        ({"batch_size": 300, "max_in_flight": 200}, "fleet.max_in_flight: must be at least"),
        ({"keepalive_seconds": 1}, "fleet.keepalive_seconds: must be from 5"),
        ({"backoff_base_seconds": 0}, "fleet.backoff_base_seconds: must be from"),
        ({"backoff_base_seconds": True}, "fleet.backoff_base_seconds: expected a number"),
        ({"backoff_base_seconds": 10, "backoff_cap_seconds": 5}, "fleet.backoff_cap_seconds"),
        ({"ack_timeout_seconds": -1}, "fleet.ack_timeout_seconds: must be from"),
        ({"broker": "x"}, "fleet.broker: unknown key"),
    ],
)
def test_mistakes_are_named(table, message):
    with pytest.raises(ConfigError, match=message):
        fleet(**table)
