"""Scanner input replayed from recordings: evdev key events and serial byte streams."""

from __future__ import annotations

import os
import threading
import tty

from hal.scanner import SerialScanner
from hal.scanner.decode import EV_KEY, KeyDecoder, LineDecoder

EV_SYN, EV_MSC = 0x00, 0x04


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def events_for(text: str, enter: int = 28) -> list[tuple[int, int, int]]:
    """What a keyboard-wedge scanner sends for ``text`` + Enter, as evtest records it:
    MSC_SCAN, then key down, SYN, key up, SYN; Shift held around capitals."""
    codes = {
        "0": 11,
        **{str(d): d + 1 for d in range(1, 10)},
        "-": 12,
        "A": 30,
        "B": 48,
        "X": 45,
        "a": 30,
    }
    out = []
    for ch in text:
        shifted = ch.isupper()
        if shifted:
            out += [(EV_KEY, 42, 1), (EV_SYN, 0, 0)]
        out += [
            (EV_MSC, 4, 458782),
            (EV_KEY, codes[ch], 1),
            (EV_SYN, 0, 0),
            (EV_KEY, codes[ch], 0),
            (EV_SYN, 0, 0),
        ]
        if shifted:
            out += [(EV_KEY, 42, 0), (EV_SYN, 0, 0)]
    return [*out, (EV_KEY, enter, 1), (EV_SYN, 0, 0), (EV_KEY, enter, 0)]


def replay(decoder, events, clock, gap=0.002):
    codes = []
    for ev in events:
        clock.t += gap
        code = decoder.feed(*ev)
        if code:
            codes.append(code)
    return codes


def test_wedge_events_become_codes():
    clock = Clock()
    decoder = KeyDecoder(clock)
    assert replay(decoder, events_for("8991002101111"), clock) == ["8991002101111"]
    assert replay(decoder, events_for("AB-12X", enter=96), clock) == ["AB-12X"]  # keypad Enter


def test_a_half_finished_code_is_discarded_after_a_pause():
    clock = Clock()
    decoder = KeyDecoder(clock)
    cut_off = events_for("89910")[:-3]  # no Enter: the scan was interrupted
    replay(decoder, cut_off, clock)
    clock.t += 1.0  # silence
    assert replay(decoder, events_for("73513537"), clock) == ["73513537"]
    assert decoder.discarded == 1


def test_auto_repeat_and_key_up_type_nothing():
    clock = Clock()
    decoder = KeyDecoder(clock)
    events = [(EV_KEY, 2, 1), (EV_KEY, 2, 2), (EV_KEY, 2, 2), (EV_KEY, 2, 0), (EV_KEY, 28, 1)]
    assert replay(decoder, events, clock) == ["1"]


def test_serial_stream_with_mixed_line_ends_and_noise():
    clock = Clock()
    decoder = LineDecoder(clock)
    recorded = [b"89910021", b"01111\r\n", b"\x00\x1b73513537\r", b"\n12345670\n"]
    codes = []
    for chunk in recorded:
        clock.t += 0.01
        codes += decoder.feed(chunk)
    assert codes == ["8991002101111", "73513537", "12345670"]
    decoder.feed(b"8991")  # cut off
    clock.t += 1.0
    assert decoder.feed(b"4006381333931\r") == ["4006381333931"]
    assert decoder.discarded == 1


def test_serial_scanner_on_a_pty():
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    scanner = SerialScanner(os.ttyname(slave))
    got, done = [], threading.Event()

    def on_scan(code):
        got.append(code)
        done.set()

    scanner.start(on_scan)
    os.write(master, b"8991002101111\r\n")
    assert done.wait(5)
    assert got == ["8991002101111"]
    scanner.stop()
    scanner._thread.join(2)
    os.close(master)
    os.close(slave)


def test_keypad_keys_from_recorded_events():
    from hal.evdev_input import keypad_key  # noqa: PLC0415

    recorded = [
        (EV_KEY, 79, 1),
        (EV_KEY, 79, 0),
        (EV_MSC, 4, 1),
        (EV_KEY, 82, 1),
        (EV_KEY, 82, 2),
        (EV_KEY, 96, 1),
        (EV_KEY, 14, 1),
        (EV_KEY, 1, 1),
    ]
    keys = [k for k in (keypad_key(*ev) for ev in recorded) if k]
    assert keys == ["1", "0", "enter", "backspace", "escape"]
