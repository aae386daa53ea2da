"""PINs and passkeys sealed to one terminal (HPKE) and signed for its documents: the round
trip, every way a sealed value fails to open, the terminal's key derivation, and every
refusal of the signed ``terminal_secrets`` payload with its reason code."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from terminal.core import config_secrets as cs
from terminal.core import signed_config as sc
from terminal.core.signed_config import ConfigRefused, Scope, Trust

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TID = "T01"
NORTH = Scope("group", "north")
SCOPES = [Scope("fleet"), NORTH, Scope("terminal", TID)]
DOCS = [hashlib.sha256(b"fleet").hexdigest(), hashlib.sha256(b"north").hexdigest()]
PIN = "482913"


class Fleet:
    """A root key and signing keys (``scopes``: key id -> labels, ``revoked``), the key
    lists the root signs, as in test_signed_config."""

    def __init__(self):
        self.root = Ed25519PrivateKey.generate()
        self.keys = [Ed25519PrivateKey.generate()]
        self.scopes: dict[str, list[str] | None] = {}
        self.revoked: set[str] = set()
        self.version = 0

    def key_list(self):
        self.version += 1
        payload = sc.key_list_payload(
            self.version,
            NOW - DAY,
            NOW + 30 * DAY,
            [
                (k.public_key(), self.scopes.get(sc.key_id(k.public_key())))
                for k in self.keys
                if sc.key_id(k.public_key()) not in self.revoked
            ],
            self.revoked,
        )
        return sc.sign(self.root, payload)

    def trust(self) -> Trust:
        trust = Trust(self.root.public_key())
        trust.accept_key_list(self.key_list(), NOW)
        return trust


@pytest.fixture
def fleet():
    return Fleet()


@pytest.fixture
def terminal():
    return cs.terminal_key(b"\x07" * 32)


def sealed_for(terminal, names=("cashier:7",), tid=TID, value=PIN) -> dict[str, str]:
    return {
        name: cs.seal(terminal.public_key(), cs.terminal_context(tid, name), value)
        for name in names
    }


def signed(
    key,
    sealed: dict[str, str],
    *,
    tid=TID,
    documents=DOCS,
    issued=NOW - DAY,
    expires=NOW + 30 * DAY,
) -> bytes:
    return cs.sign_secrets(key, tid, documents, sealed, issued, expires)


def verify(data, trust, *, tid=TID, scopes=SCOPES, documents=DOCS):
    return cs.verify_secrets(
        data, trust=trust, terminal_id=tid, scopes=scopes, documents=documents, now=NOW
    )


def refused(reason: str, *args, **kwargs) -> ConfigRefused:
    with pytest.raises(ConfigRefused) as caught:
        verify(*args, **kwargs)
    assert caught.value.reason == reason, caught.value
    return caught.value


def resigned_payload(key, data: bytes, **changes) -> bytes:
    """The envelope's payload changed as given and signed again (a bad name slips past
    ``secrets_payload``'s own check so)."""
    payload = json.loads(base64.b64decode(json.loads(data)["payload"]))
    payload.update(changes)
    return sc.sign(key, sc.canonical_json(payload))


# -- sealing ----------------------------------------------------------------------------------
def test_a_sealed_value_opens_with_the_terminals_key_and_context(terminal):
    context = cs.terminal_context(TID, "cashier:7")
    sealed = cs.seal(terminal.public_key(), context, PIN)
    assert PIN not in sealed and PIN.encode() not in base64.b64decode(sealed)
    assert cs.open_sealed(terminal, context, sealed) == PIN
    # sealed twice, two different texts (a fresh ephemeral key each time)
    assert cs.seal(terminal.public_key(), context, PIN) != sealed


def test_a_value_sealed_for_another_terminal_name_or_key_does_not_open(terminal):
    sealed = cs.seal(terminal.public_key(), cs.terminal_context(TID, "cashier:7"), PIN)
    for context in (
        cs.terminal_context("T02", "cashier:7"),  # another terminal id
        cs.terminal_context(TID, "cashier:8"),  # another secret's name
        cs.terminal_context(TID, "passkey:discounts"),
    ):
        with pytest.raises(ValueError, match="cannot be opened"):
            cs.open_sealed(terminal, context, sealed)
    other = cs.terminal_key(b"\x08" * 32)  # another terminal's key
    with pytest.raises(ValueError, match="cannot be opened"):
        cs.open_sealed(other, cs.terminal_context(TID, "cashier:7"), sealed)
    for garbage in ("", "not base64!", base64.b64encode(b"\x00" * 40).decode()):
        with pytest.raises(ValueError):
            cs.open_sealed(terminal, cs.terminal_context(TID, "cashier:7"), garbage)


def test_a_value_is_one_to_64_characters(terminal):
    for value in ("", "1" * (cs.MAX_VALUE_CHARS + 1)):
        with pytest.raises(ValueError):
            cs.seal(terminal.public_key(), b"x", value)


def test_open_secrets_opens_the_wanted_ones_and_refuses_one_that_does_not_open(terminal):
    sealed = sealed_for(terminal, ("cashier:7", "passkey:discounts"))
    assert cs.open_secrets(terminal, TID, sealed, ["cashier:7", "cashier:9"]) == {"cashier:7": PIN}
    swapped = {"cashier:7": sealed["passkey:discounts"]}  # a value moved to another name
    with pytest.raises(ConfigRefused) as caught:
        cs.open_secrets(terminal, TID, swapped, ["cashier:7"])
    assert caught.value.reason == "invalid" and "cashier:7" in caught.value.message
    assert PIN not in str(caught.value)
    with pytest.raises(ConfigRefused):  # sealed for T01, opened as T02
        cs.open_secrets(terminal, "T02", sealed, ["cashier:7"])


# -- the terminal's key -----------------------------------------------------------------------
def test_terminal_key_is_deterministic_per_material_and_differs_between_materials():
    one = cs.terminal_key(b"\x01" * 32)
    assert cs.public_hex(one) == cs.public_hex(cs.terminal_key(b"\x01" * 32))
    assert cs.public_hex(one) != cs.public_hex(cs.terminal_key(b"\x02" * 32))
    # the key is derived, not the material itself
    assert one.private_bytes_raw() != b"\x01" * 32
    hexed = cs.public_hex(one)
    assert len(hexed) == 64 and cs.public_hex(cs.load_public_hex(hexed)) == hexed
    for bad in ("", "zz" * 32, "00" * 31, hexed + "00"):
        with pytest.raises(ValueError):
            cs.load_public_hex(bad)


def test_secret_names():
    assert cs.check_name("cashier:7") == "cashier:7"
    assert cs.check_name("cashier:999999") and cs.check_name("passkey:discounts")
    for bad in ("cashier:0", "cashier:07", "cashier:1000000", "passkey:all", "pin:7", ""):
        with pytest.raises(ValueError):
            cs.check_name(bad)


# -- the signed payload -----------------------------------------------------------------------
def test_secrets_signed_for_this_terminal_and_these_documents_verify(fleet, terminal):
    sealed = sealed_for(terminal, ("cashier:7", "passkey:discounts"))
    data = signed(fleet.keys[0], sealed)
    # the documents in another order are the same documents
    assert verify(data, fleet.trust(), documents=list(reversed(DOCS))) == sealed
    assert cs.open_secrets(terminal, TID, verify(data, fleet.trust()), sealed) == {
        "cashier:7": PIN,
        "passkey:discounts": PIN,
    }


def test_another_terminals_secrets_are_wrong_scope(fleet, terminal):
    data = signed(fleet.keys[0], sealed_for(terminal, tid="T02"), tid="T02")
    error = refused("wrong_scope", data, fleet.trust())
    assert "T02" in error.message


def test_secrets_signed_for_other_documents_are_wrong_scope(fleet, terminal):
    data = signed(fleet.keys[0], sealed_for(terminal))
    refused("wrong_scope", data, fleet.trust(), documents=DOCS[:1])
    refused("wrong_scope", data, fleet.trust(), documents=[*DOCS, "0" * 64])
    refused("wrong_scope", data, fleet.trust(), documents=[DOCS[0], "a" * 64])


def test_a_tampered_payload_is_a_bad_signature(fleet, terminal):
    data = signed(fleet.keys[0], sealed_for(terminal))
    envelope = json.loads(data)
    payload = base64.b64decode(envelope["payload"]).replace(b'"T01"', b'"T02"')
    envelope["payload"] = base64.b64encode(payload).decode()
    refused("bad_signature", json.dumps(envelope).encode(), fleet.trust(), tid="T02")
    # a sealed value swapped for another one, too
    other = sealed_for(terminal, value="913824")["cashier:7"]
    payload = base64.b64decode(json.loads(data)["payload"])
    swapped = payload.replace(json.loads(payload)["secrets"]["cashier:7"].encode(), other.encode())
    envelope["payload"] = base64.b64encode(swapped).decode()
    refused("bad_signature", json.dumps(envelope).encode(), fleet.trust())


def test_an_unknown_or_revoked_key_is_refused(fleet, terminal):
    sealed = sealed_for(terminal)
    refused("unknown_key", signed(Ed25519PrivateKey.generate(), sealed), fleet.trust())
    refused("unknown_key", signed(fleet.root, sealed), fleet.trust())
    old = fleet.keys[0]
    trust = fleet.trust()
    fleet.keys.append(Ed25519PrivateKey.generate())
    fleet.revoked.add(sc.key_id(old.public_key()))
    trust.accept_key_list(fleet.key_list(), NOW)
    refused("revoked_key", signed(old, sealed), trust)
    assert verify(signed(fleet.keys[1], sealed), trust) == sealed


def test_expired_secrets_are_refused(fleet, terminal):
    sealed = sealed_for(terminal)
    refused("expired", signed(fleet.keys[0], sealed, expires=NOW), fleet.trust())
    refused(
        "expired",
        signed(fleet.keys[0], sealed, issued=NOW - 9 * DAY, expires=NOW - DAY),
        fleet.trust(),
    )
    refused("malformed", signed(fleet.keys[0], sealed, expires=NOW - 2 * DAY), fleet.trust())


def test_a_bad_secret_name_is_malformed(fleet, terminal):
    key = fleet.keys[0]
    good = signed(key, sealed_for(terminal))
    with pytest.raises(ValueError):  # the fleet's side refuses to sign it at all
        signed(key, {"cashier:0": "x"})
    for name in ("cashier:0", "pin:7", "passkey:everything", "cashier:1234567"):
        data = resigned_payload(key, good, secrets={name: "x"})
        error = refused("malformed", data, fleet.trust())
        assert name in error.message


def test_a_payload_not_of_secrets_is_malformed(fleet, terminal):
    key = fleet.keys[0]
    good = signed(key, sealed_for(terminal))
    refused("malformed", resigned_payload(key, good, type="shop_config"), fleet.trust())
    refused("malformed", resigned_payload(key, good, extra=1), fleet.trust())
    refused("malformed", resigned_payload(key, good, documents=["nothex"]), fleet.trust())
    document = sc.sign(key, sc.config_payload(NORTH, 1, NOW - DAY, NOW + DAY, {}))
    refused("malformed", document, fleet.trust())  # a document is not secrets
    refused("unsigned", b"{}", fleet.trust())
    refused("malformed", b"not json", fleet.trust())


def test_a_key_limited_to_another_groups_scope_is_wrong_scope(fleet, terminal):
    south = Ed25519PrivateKey.generate()
    north = Ed25519PrivateKey.generate()
    fleet.keys += [south, north]
    fleet.scopes[sc.key_id(south.public_key())] = ["group:south"]
    fleet.scopes[sc.key_id(north.public_key())] = ["group:north"]
    trust = fleet.trust()
    sealed = sealed_for(terminal)
    error = refused("wrong_scope", signed(south, sealed), trust)
    assert sc.key_id(south.public_key()) in error.message
    # the key of the terminal's own group may sign its secrets
    assert verify(signed(north, sealed), trust) == sealed
    # ... but not beside the fleet's document alone
    refused("wrong_scope", signed(north, sealed), trust, scopes=[Scope("fleet")])


def test_x25519_keys_of_another_kind_do_not_open(terminal):
    stranger = X25519PrivateKey.generate()
    sealed = cs.seal(stranger.public_key(), cs.terminal_context(TID, "cashier:7"), PIN)
    with pytest.raises(ValueError):
        cs.open_sealed(terminal, cs.terminal_context(TID, "cashier:7"), sealed)
