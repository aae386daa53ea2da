"""Signed configuration on the terminal's side: every refusal with a real signed envelope,
the chain of trust (rotation through the root, revocation, a key list rolled back), the
merge of scopes, and the verifier fuzzed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.config import SHOP_SECTIONS
from terminal.core import signed_config as sc
from terminal.core.signed_config import ConfigRefused, Scope, Trust

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DOC = {
    "store": {"name": "Toko Utara", "currency": "IDR"},
    "products": [{"sku": "TEH", "name": "Teh", "price": 5500, "tax_class": "PPN"}],
}
NORTH = Scope("group", "north")


class Fleet:
    """A root key, signing keys, and the key lists the root signs, as the fleet keeps them."""

    def __init__(self):
        self.root = Ed25519PrivateKey.generate()
        self.keys = [Ed25519PrivateKey.generate()]
        self.scopes: dict[str, list[str] | None] = {}
        self.revoked: set[str] = set()
        self.version = 0

    def key_list(self, *, version=None, issued=NOW - DAY, expires=NOW + 30 * DAY, by=None):
        self.version = version or self.version + 1
        payload = sc.key_list_payload(
            self.version,
            issued,
            expires,
            [
                (k.public_key(), self.scopes.get(sc.key_id(k.public_key())))
                for k in self.keys
                if sc.key_id(k.public_key()) not in self.revoked
            ],
            self.revoked,
        )
        return sc.sign(by or self.root, payload)

    def trust(self) -> Trust:
        trust = Trust(self.root.public_key())
        trust.accept_key_list(self.key_list(), NOW)
        return trust


def signed(
    key,
    *,
    scope=NORTH,
    version=1,
    issued=NOW - DAY,
    expires=NOW + 30 * DAY,
    document=DOC,
) -> bytes:
    return sc.sign(key, sc.config_payload(scope, version, issued, expires, document))


def verify(data, trust, *, applied=None, terminal="T01", group="north", validate=None):
    return sc.verify_config(
        data,
        trust=trust,
        terminal_id=terminal,
        group=group,
        applied_versions=applied or {},
        now=NOW,
        validate=validate,
    )


def refused(reason: str, *args, **kwargs) -> ConfigRefused:
    with pytest.raises(ConfigRefused) as caught:
        verify(*args, **kwargs)
    assert caught.value.reason == reason, caught.value
    return caught.value


def envelope_with(data: bytes, **changes) -> bytes:
    envelope = json.loads(data)
    envelope.update(changes)
    return json.dumps(envelope).encode()


@pytest.fixture
def fleet():
    return Fleet()


# -- accepted ---------------------------------------------------------------------------------
def test_a_document_for_the_terminals_group_is_accepted(fleet):
    config = verify(signed(fleet.keys[0]), fleet.trust())
    assert config.scope == NORTH and config.version == 1
    assert config.document == DOC
    assert config.key_id == sc.key_id(fleet.keys[0].public_key())
    assert config.expires_at == NOW + 30 * DAY


def test_fleet_and_own_terminal_scopes_are_accepted(fleet):
    trust = fleet.trust()
    assert verify(signed(fleet.keys[0], scope=Scope("fleet")), trust).scope.label == "fleet"
    mine = verify(signed(fleet.keys[0], scope=Scope("terminal", "T01")), trust)
    assert mine.scope.label == "terminal:T01"


def test_the_payload_is_canonical_and_the_envelope_as_documented(fleet):
    envelope = json.loads(signed(fleet.keys[0]))
    assert sorted(envelope) == ["key_id", "payload", "signature"]
    payload = base64.b64decode(envelope["payload"])
    assert payload == sc.canonical_json(json.loads(payload))
    assert json.loads(payload) == {
        "type": "shop_config",
        "scope": {"kind": "group", "name": "north"},
        "version": 1,
        "issued_at": "2026-11-22T04:00:00Z",
        "expires_at": "2026-12-23T04:00:00Z",
        "document": DOC,
    }


# -- every refusal ----------------------------------------------------------------------------
def test_a_tampered_payload_byte_is_a_bad_signature(fleet):
    good = signed(fleet.keys[0])
    payload = bytearray(base64.b64decode(json.loads(good)["payload"]))
    payload[payload.index(b"5500")] = ord("1")  # the price 5500 -> 1500
    tampered = envelope_with(good, payload=base64.b64encode(bytes(payload)).decode())
    refused("bad_signature", tampered, fleet.trust())


def test_a_signature_of_other_bytes_is_refused(fleet):
    other = json.loads(signed(fleet.keys[0], version=2))["signature"]
    refused("bad_signature", envelope_with(signed(fleet.keys[0]), signature=other), fleet.trust())


def test_a_key_the_key_list_does_not_hold_is_unknown(fleet):
    stranger = Ed25519PrivateKey.generate()
    error = refused("unknown_key", signed(stranger), fleet.trust())
    assert sc.key_id(stranger.public_key()) in error.message


def test_nothing_is_trusted_before_a_key_list(fleet):
    refused("unknown_key", signed(fleet.keys[0]), Trust(fleet.root.public_key()))


def test_the_root_key_signs_key_lists_not_documents(fleet):
    refused("unknown_key", signed(fleet.root), fleet.trust())


def test_a_revoked_key_is_refused(fleet):
    trust = fleet.trust()
    old = fleet.keys[0]
    fleet.keys.append(Ed25519PrivateKey.generate())
    fleet.revoked.add(sc.key_id(old.public_key()))
    trust.accept_key_list(fleet.key_list(), NOW)
    refused("revoked_key", signed(old), trust)
    assert verify(signed(fleet.keys[1]), trust).version == 1


def test_a_replayed_or_older_version_is_refused(fleet):
    trust = fleet.trust()
    data = signed(fleet.keys[0], version=3)
    assert verify(data, trust, applied={"group:north": 2}).version == 3
    refused("replay", data, trust, applied={"group:north": 3})
    refused("replay", data, trust, applied={"group:north": 7})
    # versions are per scope: group north's 3 says nothing about the fleet's
    assert verify(data, trust, applied={"fleet": 9, "terminal:T01": 9}).version == 3


def test_an_expired_document_is_refused(fleet):
    trust = fleet.trust()
    refused("expired", signed(fleet.keys[0], expires=NOW), trust)
    refused("expired", signed(fleet.keys[0], issued=NOW - 9 * DAY, expires=NOW - DAY), trust)
    assert verify(signed(fleet.keys[0], expires=NOW + timedelta(seconds=1)), trust)


def test_a_document_judged_by_an_expired_key_list_is_refused(fleet):
    trust = Trust(fleet.root.public_key())
    trust.accept_key_list(fleet.key_list(issued=NOW - 9 * DAY, expires=NOW + DAY), NOW)
    later = NOW + 2 * DAY
    with pytest.raises(ConfigRefused) as caught:
        sc.verify_config(
            signed(fleet.keys[0], expires=NOW + 30 * DAY),
            trust=trust,
            terminal_id="T01",
            group="north",
            applied_versions={},
            now=later,
        )
    assert caught.value.reason == "expired" and "key list" in caught.value.message


@pytest.mark.parametrize(
    ("scope", "terminal", "group"),
    [
        (Scope("group", "south"), "T01", "north"),
        (Scope("group", "north"), "T01", None),
        (Scope("terminal", "T02"), "T01", "north"),
        (Scope("terminal", "T01"), "T011", "north"),
    ],
)
def test_another_terminals_or_groups_document_is_wrong_scope(fleet, scope, terminal, group):
    refused(
        "wrong_scope",
        signed(fleet.keys[0], scope=scope),
        fleet.trust(),
        terminal=terminal,
        group=group,
    )


def test_a_key_limited_to_some_scopes_signs_only_those(fleet):
    kid = sc.key_id(fleet.keys[0].public_key())
    fleet.scopes[kid] = ["group:*", "terminal:T01"]
    trust = fleet.trust()
    assert verify(signed(fleet.keys[0]), trust)
    assert verify(signed(fleet.keys[0], scope=Scope("terminal", "T01")), trust)
    refused("wrong_scope", signed(fleet.keys[0], scope=Scope("fleet")), trust)
    fleet.scopes[kid] = ["group:south"]
    trust.accept_key_list(fleet.key_list(), NOW)
    error = refused("wrong_scope", signed(fleet.keys[0]), trust)
    assert "may not sign" in error.message


def test_an_oversized_envelope_is_refused_before_anything(fleet):
    big = b" " * (sc.MAX_ENVELOPE_BYTES + 1)
    refused("oversized", big, fleet.trust())
    huge = {"store": {"name": "x" * sc.MAX_ENVELOPE_BYTES}}
    refused("oversized", signed(fleet.keys[0], document=huge), fleet.trust())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"a string"',
        b"\xff\xfe",
        b'{"key_id": "abc", "signature": "00", "payload": "e30="}',
        b'{"key_id": 1, "signature": 2, "payload": 3}',
    ],
)
def test_garbage_is_malformed(fleet, data):
    refused("malformed", data, fleet.trust())


def test_a_bare_document_is_unsigned(fleet):
    refused("unsigned", json.dumps(DOC).encode(), fleet.trust())
    refused("unsigned", envelope_with(signed(fleet.keys[0]), signature=""), fleet.trust())


def test_an_unknown_envelope_field_is_refused(fleet):
    refused("malformed", envelope_with(signed(fleet.keys[0]), note="hi"), fleet.trust())


def test_a_payload_not_base64_is_malformed(fleet):
    refused("malformed", envelope_with(signed(fleet.keys[0]), payload="!!!"), fleet.trust())


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"type": "shop_config"}',
        # wrong types, each well signed
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":"1",'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":0,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        b'{"type":"shop_config","scope":{"kind":"shop","name":"north"},"version":1,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":1,'
        b'"issued_at":"2026-11-22T04:00:00","expires_at":"2026-12-23T04:00:00","document":{}}',
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":1,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":[]}',
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":1,"x":1,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        # a group without a name, the fleet with one
        b'{"type":"shop_config","scope":{"kind":"group","name":""},"version":1,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        b'{"type":"shop_config","scope":{"kind":"fleet","name":"north"},"version":1,'
        b'"issued_at":"2026-11-22T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
        # expires before it was issued
        b'{"type":"shop_config","scope":{"kind":"group","name":"north"},"version":1,'
        b'"issued_at":"2026-12-24T04:00:00Z","expires_at":"2026-12-23T04:00:00Z","document":{}}',
    ],
)
def test_a_signed_payload_of_the_wrong_shape_is_malformed(fleet, payload):
    refused("malformed", sc.sign(fleet.keys[0], payload), fleet.trust())


def test_a_key_list_signed_by_a_signing_key_is_not_a_document(fleet):
    """Type confusion: the signing_keys type under a signing key is refused, not applied."""
    refused("malformed", fleet.key_list(by=fleet.keys[0]), fleet.trust())


def test_a_document_with_other_sections_is_invalid(fleet):
    trust = fleet.trust()
    refused("invalid", signed(fleet.keys[0], document={"security": {"x": 1}}), trust)
    refused("invalid", signed(fleet.keys[0], document={"store": []}), trust)
    refused("invalid", signed(fleet.keys[0], document={"products": {}}), trust)


def test_the_validation_hook_refuses_as_invalid(fleet):
    def no_free_goods(document):
        if any(p["price"] <= 0 for p in document.get("products", [])):
            raise ValueError("products: a price must be above 0")

    trust = fleet.trust()
    free = {"products": [{"sku": "X", "name": "X", "price": 0, "tax_class": "PPN"}]}
    error = refused("invalid", signed(fleet.keys[0], document=free), trust, validate=no_free_goods)
    assert "a price must be above 0" in error.message
    assert verify(signed(fleet.keys[0]), trust, validate=no_free_goods)


def test_document_sections_follow_the_terminals_shop_sections():
    assert set(sc.DOCUMENT_SECTIONS) == {*SHOP_SECTIONS, "products", "cashiers", "passkeys"}


def test_messages_never_carry_key_material(fleet):
    trust = fleet.trust()
    stranger = Ed25519PrivateKey.generate()
    cases = [
        signed(stranger),
        envelope_with(signed(fleet.keys[0]), signature="00" * 64),
        signed(fleet.keys[0], scope=Scope("group", "south")),
    ]
    secrets = []
    for key in (fleet.root, stranger, *fleet.keys):
        secrets += [sc.raw_public(key.public_key()).hex(), key.private_bytes_raw().hex()]
    for data in cases:
        with pytest.raises(ConfigRefused) as caught:
            verify(data, trust)
        assert not any(secret in str(caught.value) for secret in secrets)


# -- the chain of trust -----------------------------------------------------------------------
def test_a_key_rotated_through_the_root_is_trusted_and_the_old_one_refused(fleet):
    trust = fleet.trust()
    old = fleet.keys[0]
    assert verify(signed(old, version=1), trust)
    new = Ed25519PrivateKey.generate()
    fleet.keys.append(new)
    fleet.revoked.add(sc.key_id(old.public_key()))
    accepted = trust.accept_key_list(fleet.key_list(), NOW)
    assert accepted.version == 2 and sc.key_id(new.public_key()) in accepted.keys
    assert verify(signed(new, version=2), trust, applied={"group:north": 1}).version == 2
    refused("revoked_key", signed(old, version=3), trust, applied={"group:north": 2})


def test_a_key_list_rolled_back_or_replayed_is_refused(fleet):
    trust = Trust(fleet.root.public_key())
    first = fleet.key_list()
    trust.accept_key_list(first, NOW)
    second = fleet.key_list()
    trust.accept_key_list(second, NOW)
    for old in (first, second):
        with pytest.raises(ConfigRefused) as caught:
            trust.accept_key_list(old, NOW)
        assert caught.value.reason == "replay"
    assert trust.key_list.version == 2


def test_a_revoked_key_stays_revoked_even_if_a_later_list_forgets_it(fleet):
    """The revocations of every accepted list are kept (a revoked key never comes back)."""
    trust = fleet.trust()
    old = fleet.keys[0]
    fleet.keys.append(Ed25519PrivateKey.generate())
    fleet.revoked.add(sc.key_id(old.public_key()))
    trust.accept_key_list(fleet.key_list(), NOW)
    fleet.revoked.clear()
    trust.accept_key_list(fleet.key_list(), NOW)
    refused("revoked_key", signed(old), trust)
    restored = Trust(
        fleet.root.public_key(), key_list=trust.key_list_envelope, revoked=trust.revoked
    )
    refused("revoked_key", signed(old), restored)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda f: f.key_list(by=Ed25519PrivateKey.generate()), "unknown_key"),
        (lambda f: f.key_list(by=f.keys[0]), "unknown_key"),
        (lambda f: f.key_list(issued=NOW - 9 * DAY, expires=NOW - DAY), "expired"),
        (lambda f: b"{}", "unsigned"),
        (lambda f: b"[]", "malformed"),
        (lambda f: b" " * (sc.MAX_ENVELOPE_BYTES + 1), "oversized"),
        (lambda f: sc.sign(f.root, b'{"type": "signing_keys"}'), "malformed"),
        (
            lambda f: sc.sign(f.root, sc.config_payload(NORTH, 1, NOW - DAY, NOW + DAY, DOC)),
            "malformed",
        ),
    ],
)
def test_a_bad_key_list_is_refused(fleet, make, reason):
    trust = Trust(fleet.root.public_key())
    with pytest.raises(ConfigRefused) as caught:
        trust.accept_key_list(make(fleet), NOW)
    assert caught.value.reason == reason
    assert trust.key_list is None


def test_a_forged_key_list_byte_is_a_bad_signature(fleet):
    good = fleet.key_list()
    payload = base64.b64decode(json.loads(good)["payload"])
    forged = payload.replace(b'"version":1', b'"version":9')
    assert forged != payload
    data = envelope_with(good, payload=base64.b64encode(forged).decode())
    with pytest.raises(ConfigRefused) as caught:
        Trust(fleet.root.public_key()).accept_key_list(data, NOW)
    assert caught.value.reason == "bad_signature"


def test_a_key_list_entry_not_matching_its_key_is_malformed(fleet):
    other = Ed25519PrivateKey.generate()
    entry = {
        "key_id": sc.key_id(other.public_key()),
        "public_key": sc.raw_public(fleet.keys[0].public_key()).hex(),
    }
    payload = sc.canonical_json(
        {
            "type": "signing_keys",
            "version": 1,
            "issued_at": "2026-11-22T04:00:00Z",
            "expires_at": "2026-12-22T04:00:00Z",
            "keys": [entry],
            "revoked": [],
        }
    )
    with pytest.raises(ConfigRefused) as caught:
        Trust(fleet.root.public_key()).accept_key_list(sc.sign(fleet.root, payload), NOW)
    assert caught.value.reason == "malformed"


def test_a_key_list_may_name_keys_in_pem(fleet):
    key = fleet.keys[0].public_key()
    payload = sc.canonical_json(
        {
            "type": "signing_keys",
            "version": 1,
            "issued_at": "2026-11-22T04:00:00Z",
            "expires_at": "2026-12-22T04:00:00Z",
            "keys": [{"key_id": sc.key_id(key), "public_key": sc.public_pem(key)}],
        }
    )
    trust = Trust(sc.public_pem(fleet.root.public_key()))
    trust.accept_key_list(sc.sign(fleet.root, payload), NOW)
    assert verify(signed(fleet.keys[0]), trust)


# -- the merge rule ---------------------------------------------------------------------------
def test_scopes_merge_fleet_then_group_then_terminal():
    fleet_doc = {
        "store": {"name": "Chain", "currency": "IDR", "receipt_footer": ["Thanks", "Bye"]},
        "taxes": {"PPN": {"name": "PPN 11%", "rate": "11"}, "EXEMPT": {"name": "Exempt"}},
        "fraud": {"voids_per_hour": 5, "refunds_per_day": 3},
        "products": [
            {"sku": "TEH", "name": "Teh", "price": 5500, "tax_class": "PPN"},
            {"sku": "KOPI", "name": "Kopi", "price": 8000, "tax_class": "PPN"},
        ],
    }
    group_doc = {
        "store": {"receipt_footer": ["Terima kasih"]},
        "taxes": {"PPN": {"rate": "12"}},
        "products": [
            {"sku": "KOPI", "name": "Kopi Utara", "price": 9000, "tax_class": "PPN"},
            {"sku": "ROTI", "name": "Roti", "price": 7000, "tax_class": "EXEMPT"},
        ],
    }
    terminal_doc = {"store": {"name": "Chain, till 1"}, "fraud": {"voids_per_hour": 2}}
    before = json.dumps([fleet_doc, group_doc, terminal_doc], sort_keys=True)
    effective = sc.effective_document(fleet_doc, group_doc, None, terminal_doc)
    assert effective == {
        # tables merge, the more specific scope's keys win; other lists are replaced whole
        "store": {"name": "Chain, till 1", "currency": "IDR", "receipt_footer": ["Terima kasih"]},
        "taxes": {"PPN": {"name": "PPN 11%", "rate": "12"}, "EXEMPT": {"name": "Exempt"}},
        "fraud": {"voids_per_hour": 2, "refunds_per_day": 3},
        # products merge by sku: a restated product is replaced whole, in its place
        "products": [
            {"sku": "TEH", "name": "Teh", "price": 5500, "tax_class": "PPN"},
            {"sku": "KOPI", "name": "Kopi Utara", "price": 9000, "tax_class": "PPN"},
            {"sku": "ROTI", "name": "Roti", "price": 7000, "tax_class": "EXEMPT"},
        ],
    }
    assert json.dumps([fleet_doc, group_doc, terminal_doc], sort_keys=True) == before
    # the order is the rule: the same documents the other way round give the fleet's
    assert sc.effective_document(terminal_doc, group_doc, fleet_doc)["store"]["name"] == "Chain"


def test_a_product_without_its_sku_cannot_be_merged():
    with pytest.raises(ValueError, match="products"):
        sc.effective_document({"products": [{"sku": "A"}]}, {"products": [{"name": "B"}]})


def test_weighed_barcodes_are_replaced_whole():
    base = {"weighed_barcodes": [{"prefix": "21", "kind": "price"}]}
    over = {"weighed_barcodes": [{"prefix": "22", "kind": "weight"}]}
    assert sc.effective_document(base, over) == over


# -- fuzzed -----------------------------------------------------------------------------------
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_trust_for_fuzz = Fleet()
FUZZ_TRUST = _trust_for_fuzz.trust()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _only_refused(data: bytes) -> None:
    try:
        verify(data, FUZZ_TRUST)
    except ConfigRefused as exc:
        assert exc.reason in sc.REASONS
    try:
        Trust(_trust_for_fuzz.root.public_key()).accept_key_list(data, NOW)
    except ConfigRefused as exc:
        assert exc.reason in sc.REASONS


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_only_refused(data):
    _only_refused(data)


@FUZZ
@given(json_values)
def test_random_json_is_only_refused(value):
    _only_refused(json.dumps(value).encode())


@FUZZ
@given(
    key_id=st.text(max_size=20) | st.just("0" * 16),
    signature=st.text(max_size=130) | st.just("0" * 128),
    payload=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: base64.b64encode(b)),
)
def test_random_envelopes_are_only_refused(key_id, signature, payload):
    if isinstance(payload, bytes):
        payload = payload.decode()
    _only_refused(
        json.dumps({"key_id": key_id, "signature": signature, "payload": payload}).encode()
    )


@FUZZ
@given(json_values)
def test_any_well_signed_payload_is_accepted_or_refused_never_crashes(value):
    """A signing key's own random payloads: past the signature, the parser is the target."""
    data = sc.sign(_trust_for_fuzz.keys[0], json.dumps(value).encode())
    with pytest.raises(ConfigRefused) as caught:
        verify(data, FUZZ_TRUST)
    assert caught.value.reason == "malformed"
