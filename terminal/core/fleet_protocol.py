"""The messages between a terminal's agent and the fleet, over MQTT 5: one definition used
by both sides (``terminal/fleet`` sends, ``fleet/`` receives), and the JSON Schemas in
``fleet/schemas/`` are generated from it (``python -m fleet.schemas``; a test keeps them
in step).

Topics (``{tid}``: the terminal id, which is also its certificate's common name and so
its MQTT user name; the broker's ACLs give a terminal only its own):

- ``pos/v1/{tid}/state``       retained :class:`State`: online with its versions; the Last
  Will sets offline. ``birth`` goes up with each connection, so a Will that arrives late,
  after a quick reconnect, is older than the birth already shown and is ignored.
- ``pos/v1/{tid}/up/journal``  :class:`JournalBatch`: journal entries in seq order, QoS 1.
- ``pos/v1/{tid}/up/event``    :class:`Event`: device health, fraud signals, lockouts.
- ``pos/v1/{tid}/down/ack``    :class:`Ack`: the highest contiguous seq the fleet holds
  (committed), and where to resend from when it found a gap or a bad entry.
- ``pos/v1/{tid}/down/cfg``    retained :class:`ConfigBundle`: the signed configuration
  the terminal is to run (per terminal, so a rollout goes in waves).
- ``pos/v1/{tid}/up/cfg-status`` :class:`ConfigStatus`: applied, held or refused (why).
- ``pos/v1/{tid}/down/job/{id}`` retained :class:`Job`: something the fleet asks this
  terminal to do (one retained message per job, so a terminal that was off gets every
  pending job at connect; the fleet clears it, an empty payload, once a final result came).
- ``pos/v1/{tid}/up/job/{id}`` :class:`JobResult`: accepted, running (progress), done,
  refused or failed.
- ``pos/v1/{tid}/up/orders/{id}`` :class:`OrderRequest`: a CS desk's online-orders call
  (stock, drop order, book, cancel, find, the paid bookings), answered on
  ``pos/v1/{tid}/down/orders/{id}`` :class:`OrderReply` (QoS 1, never retained).

Every message is JSON (UTF-8) and is decoded strictly: an unknown field, a wrong type or
a payload over :data:`MAX_MESSAGE_BYTES` is refused (:class:`BadMessage`) and nothing is
done with it. Journal entries travel as stored: the payload as its canonical JSON text,
so the fleet hashes exactly the bytes the terminal signed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

VERSION = "v1"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # a batch of a few hundred entries fits many times
MAX_BATCH_ENTRIES = 1000

TerminalId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Hex64 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Hex128 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}$")]
Seq = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
Epoch = Annotated[int, msgspec.Meta(ge=1, le=2**31)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class BadMessage(ValueError):
    """A message that is not what its topic carries (malformed JSON, a wrong or missing
    field, too large): refused as a whole."""


class Entry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One journal entry, exactly as the terminal stored and signed it
    (``terminal.store.journal_format``)."""

    epoch: Epoch
    seq: Seq
    terminal_id: TerminalId
    key_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8,64}$")]
    type: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")]
    ts: Annotated[str, msgspec.Meta(max_length=40)]
    grand_total: Annotated[int, msgspec.Meta(ge=-(2**62), le=2**62)]
    payload_json: Annotated[str, msgspec.Meta(max_length=MAX_MESSAGE_BYTES)]
    prev_hash: Hex64
    hash: Hex64
    signature: Hex128

    def as_journal_entry(self) -> dict:
        """The dict ``journal_format`` hashes and verifies (payload kept as its text)."""
        return {name: getattr(self, name) for name in self.__struct_fields__}


class JournalBatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Entries in seq order (consecutive unless the fleet asked for a resend). ``head``:
    the terminal's journal head when sent, so the fleet knows how much is unsent."""

    terminal_id: TerminalId
    entries: Annotated[list[Entry], msgspec.Meta(min_length=1, max_length=MAX_BATCH_ENTRIES)]
    head: Seq


class Ack(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The fleet holds, committed, every entry up to ``acked`` (0: none yet). With
    ``resend_from``: entries from there on are missing or were refused; send them again
    (``reason`` says why, for the terminal's log)."""

    acked: Count
    resend_from: Seq | None = None
    reason: ShortText = ""


class State(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Presence. Online: published retained at each connection with ``birth`` one more
    than the last; offline: the Last Will with the same ``birth``, or the agent's own
    goodbye."""

    status: Literal["online", "offline"]
    birth: Count
    software: ShortText = ""
    config_version: Count | None = None
    ts: Annotated[str, msgspec.Meta(max_length=40)] = ""
    # the terminal's X25519 public key (64 hex digits) that the fleet seals PINs and
    # passkeys to (``terminal.core.config_secrets``); empty from a terminal that has none
    secrets_key: Annotated[str, msgspec.Meta(pattern="^([0-9a-f]{64})?$")] = ""


EVENT_KINDS = (
    "paper_out",
    "paper_near_end",
    "cover_open",
    "printer_offline",
    "drawer_open_too_long",
    "card_terminal_offline",
    "scanner_missing",
    "scanner_offline",
    "keypad_missing",
    "keypad_offline",
    "printer_error",
    "device_offline",
    "device_ok",
    "fraud_signal",
    "lockout",
    "journal_truncated",
    "fiscal_pending",
)


class Event(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Something the fleet admin should see now: a device's health (``device``: printer,
    drawer, card, scanner, keypad), a fraud signal or a lockout (``seq``: its journal
    entry, which arrives with the journal too), or ``journal_truncated``: the fleet
    acknowledged entries past this terminal's journal head (``seq``: the fleet's head;
    entries were removed, or an older database was put back)."""

    kind: Literal[EVENT_KINDS]  # type: ignore[valid-type]
    ts: Annotated[str, msgspec.Meta(max_length=40)]
    device: ShortText = ""
    detail: ShortText = ""
    seq: Seq | None = None


Envelope = Annotated[str, msgspec.Meta(max_length=MAX_MESSAGE_BYTES)]


class ConfigBundle(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What the fleet wants a terminal to run (``down/cfg``, retained, so a terminal that
    was off gets the latest at connect): the signing-key list the root signed, and the
    signed configuration documents of the scopes the terminal belongs to (fleet, its
    group, itself; each an envelope of ``terminal.core.signed_config`` as its JSON text).
    ``rollout``: the rollout that sent it, echoed in the status. ``secrets``: the PINs and
    passkeys of the cashiers and approval the documents name, sealed to this terminal's
    key and signed for these documents (``terminal.core.config_secrets``), or ''."""

    key_list: Envelope
    documents: Annotated[list[Envelope], msgspec.Meta(max_length=3)]
    rollout: ShortText = ""
    secrets: Envelope = ""


class ConfigStatus(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What became of a configuration on the terminal (``up/cfg-status``): ``applied``
    (``versions``: per scope, as ``fleet``, ``group:G``, ``terminal:T``), ``held`` (waits
    for the sale in progress to end), or ``refused`` with the reason code of
    ``signed_config.ConfigRefused`` and its message; the old configuration then stays."""

    result: Literal["applied", "held", "refused"]
    ts: Annotated[str, msgspec.Meta(max_length=40)]
    versions: dict[ShortText, Count] = msgspec.field(default_factory=dict)
    reason: ShortText = ""
    message: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    rollout: ShortText = ""


JOB_KINDS = (
    "send_now",
    "x_report",
    "lock",
    "unlock",
    "message",
    "diagnostics",
    "rotate_certificate",
    "install_certificate",
    "count_open",  # a stock count opened for the store: ``text`` terminal.core.stocktake's
    "count_close",  # its counting ended: ``text`` the count's id
)
JOB_STATES = ("accepted", "running", "done", "refused", "failed")
FINAL_JOB_STATES = ("done", "refused", "failed")
JobId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Stamp = Annotated[datetime, msgspec.Meta(tz=True)]
MAX_PEM_CERTIFICATE = 8192  # one certificate (a P-256 one is under 1 kB)
MAX_PEM_REQUEST = 4096  # one certificate request
PemCertificate = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PEM_CERTIFICATE,
        pattern=r"^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]{1,8000}"
        r"-----END CERTIFICATE-----\r?\n?)?$",
    ),
]
PemRequest = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PEM_REQUEST,
        pattern=r"^(-----BEGIN CERTIFICATE REQUEST-----\r?\n[A-Za-z0-9+/=\r\n]{1,4000}"
        r"-----END CERTIFICATE REQUEST-----\r?\n?)?$",
    ),
]
Progress = Annotated[int, msgspec.Meta(ge=0, le=100)]


class Job(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Something the fleet asks a terminal to do (``down/job/{id}``, retained). ``id``:
    unique (a repeat is ignored); past ``expires_at`` it is refused, never run late;
    ``text``: the message to the cashier, the reason of a lock, or (``install_certificate``)
    the id of the ``rotate_certificate`` job whose request was signed.

    ``rotate_certificate``: the terminal makes a new MQTT key (it never leaves the
    terminal) and answers ``running`` with a certificate request (``JobResult.csr``);
    ``install_certificate``: ``certificate`` (PEM) is the fleet CA's answer to that
    request; the terminal checks it against its waiting key and its CA file, swaps its
    files (the old pair kept), reconnects with it, and falls back to the old pair if the
    broker refuses the new one."""

    id: JobId
    kind: Literal[JOB_KINDS]  # type: ignore[valid-type]
    issued_at: Stamp
    expires_at: Stamp
    text: ShortText = ""
    certificate: PemCertificate = ""


class JobResult(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What became of a job (``up/job/{id}``): ``accepted`` (it waits, e.g. a lock for
    the sale in progress to end), ``running`` (a step of a job that takes time: its
    ``progress`` in percent when known, ``detail`` the step), then ``done``, or
    ``refused`` / ``failed`` with ``detail``; ``data``: what it collected (diagnostics);
    ``csr``: the certificate request of a ``rotate_certificate`` (PEM; the key stays on
    the terminal)."""

    id: JobId
    state: Literal[JOB_STATES]  # type: ignore[valid-type]
    ts: Stamp
    detail: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    data: Annotated[dict[ShortText, ShortText], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=dict
    )
    progress: Progress | None = None
    csr: PemRequest = ""


# online orders (seed 001): a CS terminal's calls to the central stock and bookings
ORDER_OPS = ("stock", "drop", "book", "cancel", "find", "paid", "awb", "shipping", "released")
Amount = Annotated[int, msgspec.Meta(ge=0, le=10**13)]


class OrderRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What a CS desk asks (``up/orders/{id}``); the fleet knows the desk by the
    terminal (its store is the stock's location, its id the bookings' number series)."""

    op: Literal[ORDER_OPS]  # type: ignore[valid-type]
    sku: ShortText = ""
    price: Amount = 0  # the shelf price at the desk (book)
    order: ShortText = ""  # a booking's number (cancel, find)
    name: ShortText = ""  # the customer (book): sealed centrally
    phone: ShortText = ""
    address: Annotated[str, msgspec.Meta(max_length=400)] = ""
    drop_order: int | None = None  # the drop order that brought the item (book)
    # the courier the customer chose (book; "": decided later) and its service; with
    # ``awb``: CS typed the number from the courier's slip (awb, for ``order``)
    courier: Annotated[str, msgspec.Meta(max_length=20)] = ""
    service: Annotated[str, msgspec.Meta(max_length=20)] = ""
    awb: Annotated[str, msgspec.Meta(max_length=40)] = ""


class StockLevel(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    location: ShortText
    available: int
    booked: int
    unavailable: int


class BookingInfo(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    order: ShortText
    sku: ShortText
    price: Amount
    code: int  # the unique code in the amount due
    due: Amount  # price + code: the transfer to ask for
    deadline: Annotated[str, msgspec.Meta(max_length=40)]  # ISO 8601, UTC
    state: ShortText
    name: ShortText = ""
    phone: ShortText = ""
    address: Annotated[str, msgspec.Meta(max_length=400)] = ""
    # its shipment: the courier, the airway bill once known and where asking for it is
    # (waiting, asking, made, typed, failed: awb_error says why)
    courier: Annotated[str, msgspec.Meta(max_length=20)] = ""
    service: Annotated[str, msgspec.Meta(max_length=20)] = ""
    awb: Annotated[str, msgspec.Meta(max_length=40)] = ""
    awb_state: Annotated[str, msgspec.Meta(max_length=12)] = ""
    awb_error: ShortText = ""


class OrderReply(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The fleet's answer (``down/orders/{id}``): done, or refused with the message id
    the desk shows translated (``params`` fill it)."""

    ok: bool
    error: ShortText = ""
    params: dict[str, ShortText] = {}
    stock: list[StockLevel] = []
    booking: BookingInfo | None = None
    bookings: list[BookingInfo] = []
    drop_order: int | None = None


JOB_TOPICS = ("down/job", "up/job")  # their topics end with the job's id
ID_TOPICS = (*JOB_TOPICS, "up/orders", "down/orders")  # ... and these with the call's

MESSAGES: dict[str, type[msgspec.Struct]] = {
    "state": State,
    "up/journal": JournalBatch,
    "up/event": Event,
    "down/ack": Ack,
    "down/cfg": ConfigBundle,
    "up/cfg-status": ConfigStatus,
    "down/job": Job,
    "up/job": JobResult,
    "up/orders": OrderRequest,
    "down/orders": OrderReply,
}


def topic(terminal_id: str, kind: str, job_id: str | None = None) -> str:
    """``pos/v1/{tid}/{kind}`` for a kind of :data:`MESSAGES`; a job's ends with its id
    (``+``: every job's, to subscribe)."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown message kind {kind!r}")
    if kind in ID_TOPICS:
        if job_id is None:
            raise ValueError(f"{kind}: the job id is missing")
        if job_id != "+":
            msgspec.convert(job_id, JobId)
        return f"pos/{VERSION}/{terminal_id}/{kind}/{job_id}"
    if job_id is not None:
        raise ValueError(f"{kind} takes no job id")
    return f"pos/{VERSION}/{terminal_id}/{kind}"


def parse_job_topic(name: str) -> tuple[str, str, str | None]:
    """(terminal id, kind, job id or None) of a fleet topic; BadMessage for any other."""
    parts = name.split("/", 3)
    if len(parts) != 4 or parts[0] != "pos" or parts[1] != VERSION:
        raise BadMessage(f"not a fleet topic: {name[:120]!r}")
    kind, job_id = parts[3], None
    head, _, tail = kind.rpartition("/")
    if head in ID_TOPICS:
        kind, job_id = head, tail
        try:
            msgspec.convert(job_id, JobId)
        except msgspec.ValidationError:
            raise BadMessage(f"not a job id: {job_id[:80]!r}") from None
    elif kind not in MESSAGES or kind in ID_TOPICS:
        raise BadMessage(f"not a fleet topic: {name[:120]!r}")
    try:
        msgspec.convert(parts[2], TerminalId)
    except msgspec.ValidationError:
        raise BadMessage(f"not a terminal id: {parts[2][:80]!r}") from None
    return parts[2], kind, job_id


def parse_topic(name: str) -> tuple[str, str]:
    """(terminal id, kind) of a fleet topic (a job's: ``down/job`` or ``up/job``, its id
    checked); BadMessage for any other topic."""
    terminal_id, kind, _job = parse_job_topic(name)
    return terminal_id, kind


_ENCODER = msgspec.json.Encoder()
_DECODERS = {kind: msgspec.json.Decoder(cls) for kind, cls in MESSAGES.items()}


def encode(message: msgspec.Struct) -> bytes:
    return _ENCODER.encode(message)


def decode(kind: str, data: bytes) -> msgspec.Struct:
    """The message of ``kind`` in ``data``, checked field by field; BadMessage otherwise."""
    if kind not in _DECODERS:
        raise BadMessage(f"unknown message kind {kind!r}")
    return decode_with(_DECODERS[kind], kind, data)


def decode_with(decoder: msgspec.json.Decoder, kind: str, data: bytes) -> msgspec.Struct:
    """``data`` decoded strictly by ``decoder`` (a message of ``kind``); BadMessage for
    one too large, malformed, or not UTF-8."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"{kind}: {len(data)} bytes, more than {MAX_MESSAGE_BYTES}")
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadMessage(f"{kind}: {exc}") from None
    except UnicodeDecodeError as exc:  # msgspec lets this through (an encoded surrogate)
        raise BadMessage(f"{kind}: not UTF-8: {exc.reason}") from None


def json_schemas() -> dict[str, dict]:
    """One JSON Schema per message kind (file name: the kind with / as -)."""
    return {kind.replace("/", "-"): msgspec.json.schema(cls) for kind, cls in MESSAGES.items()}
