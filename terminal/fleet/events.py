"""What the agent publishes on ``pos/v1/{tid}/up/event``: the devices' health changes the
app wrote down (:mod:`terminal.store.outbox`), and a note for each lockout and fraud
signal in the journal (the entry itself travels with the journal; the event makes it
seen at once)."""

from __future__ import annotations

import json

from terminal.core import fleet_protocol as fp
from terminal.store.outbox import DeviceEvent

OFFLINE = "device_offline"  # a device whose health check failed
# the app's health event -> (the protocol's kind, the device)
HEALTH = {
    "paper-out": ("paper_out", "printer"),
    "paper-near-end": ("paper_near_end", "printer"),
    "cover-open": ("cover_open", "printer"),
    "printer-offline": ("printer_offline", "printer"),
    "printer-error": ("printer_error", "printer"),
    "card-offline": ("card_terminal_offline", "card"),
    "scanner-missing": ("scanner_missing", "scanner"),
    "scanner-offline": ("scanner_offline", "scanner"),
    "drawer-open-too-long": ("drawer_open_too_long", "drawer"),
    "keypad-missing": ("keypad_missing", "keypad"),
    "keypad-offline": ("keypad_offline", "keypad"),
    "fiscal-pending": ("fiscal_pending", "fiscal"),  # e-barimt receipts wait to be registered
}
JOURNAL_KINDS = ("lockout", "fraud_signal")


def _short(text: str) -> str:
    return text[:200]


def device_of(name: str) -> str:
    """The device a health event is about (``card-offline``: card)."""
    if name in HEALTH:
        return HEALTH[name][1]
    return name.split("-", 1)[0]


def device_message(event: DeviceEvent) -> fp.Event:
    """A health change as the fleet reads it; ``detail`` keeps the app's own name, so
    nothing is lost where two names share a kind. The end of a problem is ``device_ok``."""
    if event.cleared:
        return fp.Event("device_ok", event.ts, device_of(event.name), _short(event.name))
    kind, device = HEALTH.get(event.name, (OFFLINE, device_of(event.name)))
    return fp.Event(kind, event.ts, device, _short(event.name))


def journal_message(entry: dict) -> fp.Event | None:
    """The event for a lockout or a fraud signal entry (None for any other entry). The
    detail names the cashier number and the signal, never a PIN (there is none in the
    journal)."""
    if entry["type"] not in JOURNAL_KINDS:
        return None
    try:
        payload = json.loads(entry["payload_json"])
    except ValueError:
        payload = {}
    if entry["type"] == "lockout":
        detail = str(payload.get("subject", ""))
    else:
        detail = f"{payload.get('signal', '')} cashier {payload.get('cashier', '')}".strip()
    return fp.Event(entry["type"], entry["ts"], "", _short(detail), entry["seq"])
