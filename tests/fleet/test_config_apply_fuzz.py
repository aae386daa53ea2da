"""The agent's inbound configuration handler (``down/cfg``) fuzzed: random bytes and bundles
of random envelopes are refused with a reason, never a crash, and nothing reaches the
app: no bundle waits, the configuration in force stays. The same for the ``secrets`` of
an otherwise good bundle (a trusted key list, a signed document naming cashiers): random
strings, random envelopes, and payloads signed by a trusted key but random or sealed
wrong; the terminal's cashiers stay as they were."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.config import parse_settings
from terminal.core import config_secrets as cs
from terminal.core import fleet_protocol as fp
from terminal.core import signed_config as sc
from terminal.core.signed_config import REASONS, Scope, public_pem
from terminal.fleet.agent import Agent, agent_keys
from terminal.services import fleet_config as config_check
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_config, shop_config
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.models import CashierRow
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


# -- the secrets of an otherwise good bundle ----------------------------------------------------
STAFF = [
    {"id": 1, "name": "Sari", "role": "cashier"},
    {"id": 2, "name": "Budi", "role": "supervisor"},
    {"id": 7, "name": "Wulan", "role": "cashier"},
]


@pytest.fixture(scope="module")
def sealed_world(tmp_path_factory):
    """A terminal whose root key the test holds, its agent with the terminal's keys (it
    opens and hashes secrets), a key list and a document naming cashier 7 (signed now,
    by the wall clock the agent uses)."""
    where = tmp_path_factory.mktemp("cfg-secrets-fuzz")
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(where / "var")
    root, signer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pem = where / "root.pem"
    pem.write_text(public_pem(root.public_key()))
    built_settings = parse_settings(doc)
    fleet = dataclasses.replace(
        built_settings.fleet, enabled=True, group="north", config_root_key=pem
    )
    built = build_terminal(
        dataclasses.replace(built_settings, fleet=fleet), pin_params=FAST_TEST_PARAMS
    )
    pos = built.pos
    now = datetime.now(UTC)
    key_list = sc.sign(
        root,
        sc.key_list_payload(
            1, now - timedelta(days=1), now + timedelta(days=30), [(signer.public_key(), None)]
        ),
    )
    document = sc.sign(
        signer,
        sc.config_payload(
            Scope("fleet", ""),
            1,
            now - timedelta(hours=1),
            now + timedelta(days=30),
            {**pos.settings.shop_document, "cashiers": STAFF},
        ),
    )
    agent = Agent(pos.settings, pos.db, keys=agent_keys(built.keys))
    return pos, agent, signer, key_list, document


def with_secrets(world, secrets: str) -> bytes:
    _pos, _agent, _signer, key_list, document = world
    return fp.encode(fp.ConfigBundle(key_list.decode(), [document.decode()], "r", secrets))


def cashiers(pos) -> list[tuple]:
    return sorted((r.id, r.active, r.pin_hash) for r in CashierRow.select().bind(pos.db))


def check_secrets(world, secrets: str) -> None:
    pos, agent, *_ = world
    before = cashiers(pos)
    check((pos, agent), with_secrets(world, secrets))
    assert cashiers(pos) == before
    assert fleet_config.state(pos.db).applied == {}


def test_the_bundle_is_good_but_for_its_secrets(sealed_world):
    """(So the fuzz below reaches the secrets: without them the bundle is accepted.)"""
    pos, *_ = sealed_world
    checked = config_check.check_bundle(
        with_secrets(sealed_world, ""),
        config_check.load_trust(pos.settings.fleet, fleet_config.state(pos.db)),
        terminal_id=pos.settings.terminal_id,
        group="north",
        applied={},
        now=datetime.now(UTC),
    )
    assert checked.changed and checked.effective["cashiers"] == STAFF


def _payload_sha(envelope: bytes) -> str:
    return hashlib.sha256(base64.b64decode(json.loads(envelope)["payload"])).hexdigest()


secret_names = st.sampled_from(["cashier:7", "cashier:1", "passkey:discounts"])


@FUZZ
@given(secrets=envelopes.filter(bool))
def test_random_secrets_are_refused(sealed_world, secrets):
    check_secrets(sealed_world, secrets)


@FUZZ
@given(
    payload=st.one_of(
        st.binary(max_size=200),
        st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6).map(
            lambda d: json.dumps(d).encode()
        ),
    )
)
def test_random_payloads_signed_by_a_trusted_key_are_refused(sealed_world, payload):
    signer = sealed_world[2]
    check_secrets(sealed_world, sc.sign(signer, payload).decode())


@FUZZ
@given(
    values=st.dictionaries(
        secret_names,
        st.one_of(
            st.text(max_size=100),
            st.binary(min_size=1, max_size=120).map(lambda b: base64.b64encode(b).decode()),
        ),
        min_size=1,
    ),
    tid=st.sampled_from(["T01", "T02"]),
    documents=st.sampled_from(["this", "none", "other"]),
)
def test_signed_secrets_sealed_wrong_or_for_another_are_refused(
    sealed_world, values, tid, documents
):
    _pos, _agent, signer, _key_list, document = sealed_world
    values = {"cashier:7": "x", **values}  # (cashier 7 is wanted: it must open)
    now = datetime.now(UTC)
    hashes = {
        "this": [_payload_sha(document)],
        "none": [],
        "other": [hashlib.sha256(b"other").hexdigest()],
    }[documents]
    data = cs.sign_secrets(
        signer, tid, hashes, values, now - timedelta(hours=1), now + timedelta(days=1)
    )
    check_secrets(sealed_world, data.decode())
