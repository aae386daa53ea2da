"""The agent's inbound configuration handler (``down/cfg``) fuzzed: random bytes and bundles
of random envelopes are refused with a reason, never a crash, and nothing reaches the
app: no bundle waits, the configuration in force stays."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.core.signed_config import REASONS, public_pem
from terminal.fleet.agent import Agent
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_config, shop_config
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import load_doc

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    where = tmp_path_factory.mktemp("cfg-fuzz")
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(where / "var")
    pem = where / "root.pem"
    pem.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    built_settings = parse_settings(doc)
    fleet = dataclasses.replace(
        built_settings.fleet, enabled=True, group="north", config_root_key=pem
    )
    built_settings = dataclasses.replace(built_settings, fleet=fleet)
    built = build_terminal(built_settings, pin_params=FAST_TEST_PARAMS)
    return built.pos, Agent(built.pos.settings, built.pos.db)


def check(world, data: bytes) -> None:
    pos, agent = world
    before = len(fleet_config.all_statuses(pos.db))
    agent._on_config(data)
    statuses = fleet_config.all_statuses(pos.db)
    if len(statuses) > before:  # (a repeat of the same bytes is handled once)
        found = fp.decode("up/cfg-status", statuses[-1].status)
        assert found.result == "refused" and found.reason in REASONS
    assert fleet_config.waiting_bundle(pos.db) is None
    pos.fleet_config.poll()
    assert shop_config.current(pos.db).version == 1


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_on_down_cfg_are_refused(world, data):
    check(world, data)


envelopes = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda kid, sig, payload: json.dumps({"key_id": kid, "signature": sig, "payload": payload}),
        st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
        st.text(alphabet="0123456789abcdef", min_size=128, max_size=128),
        st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
    ),
)


@FUZZ
@given(
    key_list=envelopes,
    documents=st.lists(envelopes, max_size=3),
    rollout=st.text(max_size=50),
)
def test_bundles_of_random_envelopes_are_refused(world, key_list, documents, rollout):
    check(world, fp.encode(fp.ConfigBundle(key_list, documents, rollout)))
