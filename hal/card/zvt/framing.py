"""ZVT serial transport framing (PA00P016).

A frame is ``DLE STX`` + APDU with every DLE doubled + ``DLE ETX`` + CRC, low byte first.
The CRC is CRC-CCITT in its reflected form (polynomial 0x8408, initial value 0, no final
xor) over the unstuffed APDU followed by the ETX byte: the published example
``05 01 03 12 34 56`` gives ``E0 43``. The receiver answers ``ACK`` (06) for a good frame
and ``NAK`` (15) for a bad one; the sender repeats a NAKed frame (at most 3 tries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DLE, STX, ETX, ACK, NAK = 0x10, 0x02, 0x03, 0x06, 0x15


def crc_ccitt(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def frame(apdu: bytes) -> bytes:
    crc = crc_ccitt(apdu + bytes([ETX]))
    stuffed = apdu.replace(bytes([DLE]), bytes([DLE, DLE]))
    return bytes([DLE, STX]) + stuffed + bytes([DLE, ETX]) + crc.to_bytes(2, "little")


@dataclass
class FrameEvent:
    """What the reader found: a good APDU, a frame with a bad CRC, or a lone ACK/NAK."""

    kind: str  # "apdu" | "bad-crc" | "ack" | "nak"
    apdu: bytes = b""


@dataclass
class FrameReader:
    """Incremental parser: feed bytes as they arrive, take the events it completed.

    Bytes outside a frame other than ACK/NAK are line noise and are dropped; a new
    ``DLE STX`` always starts a new frame, so the reader resynchronises after garbage.
    """

    _state: str = "idle"  # idle | dle | body | body-dle | crc
    _body: bytearray = field(default_factory=bytearray)
    _crc: bytearray = field(default_factory=bytearray)
    noise: int = 0

    def feed(self, data: bytes) -> list[FrameEvent]:
        events: list[FrameEvent] = []
        for byte in data:
            event = self._step(byte)
            if event:
                events.append(event)
        return events

    def _step(self, byte: int) -> FrameEvent | None:
        state = self._state
        if state == "idle":
            if byte == DLE:
                self._state = "dle"
            elif byte == ACK:
                return FrameEvent("ack")
            elif byte == NAK:
                return FrameEvent("nak")
            else:
                self.noise += 1
            return None
        if state == "dle":
            if byte == STX:
                self._body.clear()
                self._state = "body"
            else:
                self.noise += 1
                self._state = "idle"
            return None
        if state == "body":
            if byte == DLE:
                self._state = "body-dle"
            else:
                self._body.append(byte)
            return None
        if state == "body-dle":
            if byte == DLE:
                self._body.append(DLE)
                self._state = "body"
            elif byte == ETX:
                self._crc.clear()
                self._state = "crc"
            elif byte == STX:  # a new frame began inside this one: start over
                self.noise += len(self._body)
                self._body.clear()
                self._state = "body"
            else:
                self.noise += len(self._body) + 1
                self._state = "idle"
            return None
        # crc
        self._crc.append(byte)
        if len(self._crc) < 2:
            return None
        self._state = "idle"
        apdu = bytes(self._body)
        if crc_ccitt(apdu + bytes([ETX])) == int.from_bytes(self._crc, "little"):
            return FrameEvent("apdu", apdu)
        return FrameEvent("bad-crc", apdu)
