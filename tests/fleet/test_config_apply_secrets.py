"""PINs sealed beside the signed documents, at the apply level: a real Mosquitto, the agent
on a thread of its own holding the terminal's keys (it opens and hashes the secrets on
arrival), the app's side polled (as in test_config_apply). A bundle whose secrets are not
this terminal's, not for these documents, or tampered is refused whole with its reason;
a cashier removed while signed in is signed out once the sale in progress ends; a
cashier named without a PIN cannot sign in until one comes."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest

from terminal.core import config_secrets as cs
from terminal.core import fleet_protocol as fp
from terminal.core.errors import PosError
from terminal.fleet.agent import agent_keys
from terminal.store import fleet_config, shop_config
from terminal.store.cashiers import check_pin, list_cashiers
from terminal.store.models import CashierRow
from tests.fleet.test_agent import TID, AgentThread, wait_for
from tests.fleet.test_config_apply import (
    COFFEE,
    broker,
    config_changes,
    keys,
    made,
    priced,
    stub,
    until_status,
)

__all__ = ["broker", "keys", "made", "stub"]  # the fixtures

SARI = {"id": 1, "name": "Sari", "role": "cashier"}
BUDI = {"id": 2, "name": "Budi", "role": "supervisor"}
WULAN = {"id": 7, "name": "Wulan", "role": "cashier"}
WULAN_PIN = "482913"


@pytest.fixture
def agent(clock):
    """The agent with the terminal's own keys (its X25519 key and PIN pepper)."""
    started = []

    def start(terminal):
        thread = AgentThread(terminal.pos.settings, wall=clock, keys=agent_keys(terminal.keys))
        started.append(thread)
        return thread

    yield start
    for thread in started:
        if thread.thread.is_alive():
            thread.stop()


def staffed(settings, *cashiers, coffee: int = 15000) -> dict:
    return {**priced(settings, coffee), "cashiers": list(cashiers)}


def digest(envelope: bytes) -> str:
    return hashlib.sha256(base64.b64decode(json.loads(envelope)["payload"])).hexdigest()


def public_of(terminal):
    return cs.terminal_key(terminal.keys.key("sealing")).public_key()


def sealed(public, values: dict[str, str], tid: str = TID) -> dict[str, str]:
    return {
        name: cs.seal(public, cs.terminal_context(tid, name), value)
        for name, value in values.items()
    }


def secrets_for(keys, documents, sealed_values, *, tid=TID, signed_for=None) -> bytes:
    now = keys.now
    return cs.sign_secrets(
        keys.signer,
        tid,
        [digest(d) for d in (signed_for if signed_for is not None else documents)],
        sealed_values,
        now - timedelta(hours=1),
        now + timedelta(days=30),
    )


def bundle(keys, documents, secrets: bytes = b"", rollout: str = "r-1") -> bytes:
    return fp.encode(
        fp.ConfigBundle(
            keys.key_list().decode(),
            [d.decode() for d in documents],
            rollout=rollout,
            secrets=secrets.decode(),
        )
    )


def tampered(envelope: bytes) -> bytes:
    data = json.loads(envelope)
    payload = json.loads(base64.b64decode(data["payload"]))
    payload["expires_at"] = "2099-01-01T00:00:00Z"
    data["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps(data).encode()


def cashier_rows(pos) -> list[tuple]:
    return sorted(
        (r.id, r.name, r.role, r.active, r.pin_hash) for r in CashierRow.select().bind(pos.db)
    )


# -- refused whole ---------------------------------------------------------------------------
def _another_terminals_key(keys, terminal, documents):
    other = cs.terminal_key(b"\x05" * 32).public_key()
    return secrets_for(keys, documents, sealed(other, {"cashier:7": WULAN_PIN}))


def _for_another_terminal(keys, terminal, documents):
    return secrets_for(
        keys, documents, sealed(public_of(terminal), {"cashier:7": WULAN_PIN}, "T02"), tid="T02"
    )


def _for_other_documents(keys, terminal, documents):
    other = keys.document({"store": {"name": "Toko Lain"}}, version=9)
    return secrets_for(
        keys,
        documents,
        sealed(public_of(terminal), {"cashier:7": WULAN_PIN}),
        signed_for=[other],
    )


def _tampered(keys, terminal, documents):
    return tampered(
        secrets_for(keys, documents, sealed(public_of(terminal), {"cashier:7": WULAN_PIN}))
    )


def _weak_pin(keys, terminal, documents):
    return secrets_for(keys, documents, sealed(public_of(terminal), {"cashier:7": "1234"}))


REFUSALS = {
    "sealed to another terminal's key": (_another_terminals_key, "invalid"),
    "for another terminal": (_for_another_terminal, "wrong_scope"),
    "signed for other documents": (_for_other_documents, "wrong_scope"),
    "tampered": (_tampered, "bad_signature"),
    "a PIN breaking the rules": (_weak_pin, "invalid"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_secrets_not_for_this_terminal_and_documents_refuse_the_bundle_whole(
    made, stub, agent, keys, settings, case
):
    make_secrets, reason = REFUSALS[case]
    terminal = made()
    pos = terminal.pos
    before, cashiers_before = shop_config.current(pos.db), cashier_rows(pos)
    agent(terminal)
    documents = [keys.document(staffed(settings, SARI, BUDI, WULAN))]
    stub.push(bundle(keys, documents, make_secrets(keys, terminal, documents)))
    status = until_status(terminal, stub, 1, case)
    assert (status.result, status.reason) == ("refused", reason), status.message
    assert WULAN_PIN not in status.message and "1234" not in status.message
    # nothing applied: the old configuration, the old cashiers
    assert shop_config.current(pos.db) == before
    assert pos.catalogue.lookup(COFFEE).product.price == 14500
    assert cashier_rows(pos) == cashiers_before
    assert fleet_config.waiting_bundle(pos.db) is None
    assert fleet_config.state(pos.db).applied == {}
    assert check_pin(pos.db, pos.hasher, 7, WULAN_PIN) is None
    assert check_pin(pos.db, pos.hasher, 1, "1357").name == "Sari"
    wait_for(lambda: pos.fleet_config.poll() or config_changes(pos), "the refusal journaled", 5)
    (change,) = config_changes(pos)
    assert (change["result"], change["reason"]) == ("refused", reason)


# -- applied ---------------------------------------------------------------------------------
def test_a_cashier_removed_while_signed_in_is_signed_out_after_the_sale(
    made, stub, agent, keys, settings
):
    terminal = made()
    pos = terminal.pos
    pos.sign_in("1", "1357")  # Sari
    pos.scan(COFFEE)  # the sale in progress
    agent(terminal)
    stub.push(bundle(keys, [keys.document(staffed(settings, BUDI))]))

    held = until_status(terminal, stub, 1, "held")
    assert held.result == "held"
    assert pos.cashier.id == 1  # she finishes her sale
    assert check_pin(pos.db, pos.hasher, 1, "1357").name == "Sari"  # not applied yet
    assert pos.pay_cash(20000).committed.sale.total == 14500

    applied = until_status(terminal, stub, 2, "applied")
    assert applied.result == "applied"
    assert pos.cashier is None  # signed out as it applied
    assert [c.id for c in list_cashiers(pos.db)] == [2]
    with pytest.raises(PosError):
        pos.sign_in("1", "1357")
    pos.sign_in("2", "2580")
    (change,) = config_changes(pos)
    assert change["cashiers_removed"] == [1] and change["cashiers_added"] == []


def test_a_cashier_named_without_a_pin_cannot_sign_in_until_it_comes(
    made, stub, agent, keys, settings
):
    terminal = made()
    pos = terminal.pos
    agent(terminal)
    first = [keys.document(staffed(settings, SARI, BUDI, WULAN))]
    stub.push(bundle(keys, first))
    status = until_status(terminal, stub, 1, "applied without Wulan's PIN")
    assert status.result == "applied", status.message
    assert pos.catalogue.lookup(COFFEE).product.price == 15000
    assert 7 not in [c.id for c in list_cashiers(pos.db)]
    with pytest.raises(PosError):
        pos.sign_in("7", WULAN_PIN)
    assert pos.sign_in("1", "1357").name == "Sari"  # the others sign in as before
    pos.sign_out()

    # the next bundle brings her PIN, sealed to this terminal: she can sign in
    second = [keys.document(staffed(settings, SARI, BUDI, WULAN, coffee=16000), version=2)]
    secrets = secrets_for(keys, second, sealed(public_of(terminal), {"cashier:7": WULAN_PIN}))
    stub.push(bundle(keys, second, secrets))
    status = until_status(terminal, stub, 2, "applied with Wulan's PIN")
    assert status.result == "applied", status.message
    assert pos.sign_in("7", WULAN_PIN).name == "Wulan"
    changes = config_changes(pos)
    assert changes[0]["cashiers_added"] == [7] and changes[0]["pins_set"] == []
    assert changes[1]["pins_set"] == [7]
    assert all(WULAN_PIN not in json.dumps(c) for c in changes)


def test_the_state_carries_the_terminals_secrets_key(made, keys, clock):
    terminal = made()
    thread = AgentThread(terminal.pos.settings, wall=clock, keys=agent_keys(terminal.keys))
    try:
        state = fp.decode("state", thread.agent._state("online"))
        assert state.secrets_key == cs.public_hex(public_of(terminal))
    finally:
        thread.stop()
