"""Texts for the terminal's intermediate status codes (04 FF) and result codes (BMP 27),
as the cashier sees them. English here; the app translates what it shows."""

from __future__ import annotations

_BASE = {
    0x00: "waiting for amount confirmation",
    0x01: "watch the PIN pad",
    0x02: "watch the PIN pad",
    0x03: "not accepted",
    0x04: "waiting for the bank",
    0x05: "sending auto-reversal",
    0x06: "sending post-bookings",
    0x07: "card not admitted",
    0x08: "card unknown",
    0x09: "card expired",
    0x0A: "insert card",
    0x0B: "remove card",
    0x0C: "card not readable",
    0x0D: "processing error",
    0x0E: "please wait",
    0x0F: "automatic end of day",
    0x10: "invalid card",
    0x11: "balance display",
    0x12: "system malfunction",
    0x13: "payment not possible",
    0x14: "credit not sufficient",
    0x15: "incorrect PIN",
    0x16: "limit not sufficient",
    0x17: "please wait",
    0x18: "PIN try limit exceeded",
    0x19: "card data incorrect",
    0x1A: "service mode",
    0x1B: "approved, please fill up",
    0x1C: "approved, please take goods",
    0x1D: "declined",
}
# 41-5D are 01-1D with "please remove card"; PIN entry is shown as 01/02 ("watch PIN pad")
INTERMEDIATE = {
    **_BASE,
    **{code + 0x40: f"{text}, remove card" for code, text in _BASE.items() if code},
    0x26: "enter mobile number",
    0x28: "choose currency",
    0x29: "choose language",
    0xC8: "waiting for cashier",
    0xD2: "connecting",
    0xD3: "connected",
    0xF1: "offline",
    0xF2: "online",
}

RESULTS = {
    0x00: "approved",
    0x05: "declined by the bank",
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x6C: "aborted (timeout or abort key)",
    0x6F: "wrong currency",
    0x78: "card expired",
    0x83: "function not possible",
    0x9A: "ZVT protocol error",
    0x9C: "repeat the process",
    0xA0: "receiver not ready",
    0xB4: "already reversed",
    0xB5: "reversal not possible",
    0xC2: "diagnosis required",
    0xC3: "maximum amount exceeded",
    0xFF: "system error",
}


# negative acknowledgements (84 xx) with a meaning of their own: a wrong password is
# refused with 84 37 (card complete, "ZVT-Praezisierung" 22, 3.1.2.1)
REFUSALS = {0x37: "wrong password"}


def intermediate_text(code: int) -> str:
    return INTERMEDIATE.get(code, f"status {code:02X}")


def refusal_text(code: int) -> str:
    """The reason of a negative acknowledgement ``84 xx`` (or ``84 1E .. xx``)."""
    return REFUSALS.get(code) or result_text(code)


def result_text(code: int) -> str:
    if code in RESULTS:
        return RESULTS[code]
    if 0x01 <= code <= 0x63:
        return f"declined by the bank (code {code})"
    return f"error {code:02X}"
