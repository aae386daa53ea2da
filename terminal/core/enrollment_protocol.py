"""Enrollment: how a terminal that has no certificate yet gets one, with the one-time token
of its provisioning bundle. One definition for both sides (``provisioning`` on the
terminal asks, ``fleet.enrollment`` answers); the JSON Schemas in ``fleet/schemas/`` are
generated from it too.

The terminal connects to the fleet's enrollment broker (TLS, the broker checked with
the bundle's CA; no client certificate) as an anonymous client whose client id is a
random request id, subscribes to ``pos/enroll/v1/res/{request}`` (the broker lets it read
that topic only) and sends an :class:`EnrollRequest` to ``pos/enroll/v1/req/{request}``.
The fleet answers with an :class:`EnrollAnswer`: its certificate (the key never left the
terminal), the CA file, the root key its configuration is signed under, and the newest
signed configuration of its scopes; or a refusal with the reason.

A token certifies one key once: asked again with the same key (an answer lost, a first
boot retried) the fleet sends the same certificate again; with another key it refuses.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from terminal.core.fleet_protocol import (
    BadMessage,
    Envelope,
    PemRequest,
    ShortText,
    decode_with,
)

REQUEST_PREFIX = "pos/enroll/v1/req/"
ANSWER_PREFIX = "pos/enroll/v1/res/"

RequestId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}$")]
Token = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
PemText = Annotated[str, msgspec.Meta(max_length=16384)]
REFUSALS = ("unknown token", "token used", "token expired", "bad request", "not available")


class EnrollRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``csr``: a certificate request for the terminal's MQTT key, its common name the
    terminal id the token was made for; ``journal_key``: the Ed25519 public key (PEM)
    its journal entries are signed with; ``secrets_key``: the X25519 public key (hex) the
    fleet seals PINs to; ``protector``: what protects its keys (tpm2, rpi-otp, file)."""

    request: RequestId
    token: Token
    csr: PemRequest
    journal_key: Annotated[str, msgspec.Meta(max_length=1000)]
    secrets_key: Annotated[str, msgspec.Meta(pattern=r"^([0-9a-f]{64})?$")] = ""
    protector: ShortText = ""
    software: ShortText = ""


class EnrollAnswer(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """``enrolled``: ``certificate`` (PEM: the terminal's, then its issuing CA's), ``ca``
    (the trust file: the CAs the broker's certificate is checked with), the pinned
    ``config_root_key`` (PEM), the terminal's id, store, group and time zone, and the
    newest signed configuration of its scopes (``key_list`` and ``documents`` as a
    ``down/cfg`` carries them). ``refused``: ``reason`` (one of :data:`REFUSALS`) and
    ``message`` for the screen and the status ticket."""

    result: Literal["enrolled", "refused"]
    reason: ShortText = ""
    message: ShortText = ""
    terminal_id: ShortText = ""
    store: ShortText = ""
    group: ShortText = ""
    timezone: ShortText = ""
    certificate: PemText = ""
    ca: PemText = ""
    config_root_key: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    key_list: Envelope = ""
    documents: Annotated[list[Envelope], msgspec.Meta(max_length=3)] = msgspec.field(
        default_factory=list
    )


MESSAGES: dict[str, type[msgspec.Struct]] = {
    "enroll-req": EnrollRequest,
    "enroll-res": EnrollAnswer,
}
_ENCODER = msgspec.json.Encoder()
_DECODERS = {kind: msgspec.json.Decoder(cls) for kind, cls in MESSAGES.items()}


def request_topic(request: str) -> str:
    return REQUEST_PREFIX + msgspec.convert(request, RequestId)


def answer_topic(request: str) -> str:
    return ANSWER_PREFIX + msgspec.convert(request, RequestId)


def request_of_topic(name: str) -> str:
    """The request id of a request topic; BadMessage for any other topic."""
    if not name.startswith(REQUEST_PREFIX):
        raise BadMessage(f"not an enrollment topic: {name[:120]!r}")
    try:
        return msgspec.convert(name[len(REQUEST_PREFIX) :], RequestId)
    except msgspec.ValidationError:
        raise BadMessage(f"not a request id: {name[len(REQUEST_PREFIX) :][:80]!r}") from None


def encode(message: msgspec.Struct) -> bytes:
    return _ENCODER.encode(message)


def decode(kind: str, data: bytes) -> msgspec.Struct:
    """The message of ``kind`` in ``data``, checked field by field; BadMessage otherwise."""
    return decode_with(_DECODERS[kind], kind, data)


def json_schemas() -> dict[str, dict]:
    return {kind: msgspec.json.schema(cls) for kind, cls in MESSAGES.items()}
