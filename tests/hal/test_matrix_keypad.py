"""The gpiozero matrix-scanning keypad on the mock pin factory: a pressed key is a row
pin connected to a column pin (gpiozero's MockConnectedPin), as the real contacts do."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockConnectedPin, MockFactory

from hal.keypad import make_keypad
from hal.keypad.matrix import MatrixKeypad

ROWS, COLS = [5, 6, 13, 19], [12, 16, 20]


@pytest.fixture
def board():
    factory = MockFactory()
    yield factory
    factory.reset()


def press(factory, row, col):
    """Join a row to a column, as the key at (row, col) does while held."""
    factory.pin(ROWS[row]).input_pin = factory.pin(COLS[col])


def release(factory, row):
    factory.pin(ROWS[row]).input_pin = None
    for col in COLS:
        factory.pin(col).drive_high()  # the pull-up takes over


def keypad_on(board):
    for row in ROWS:  # rows whose contacts can reach a column
        board.pin(row, pin_class=MockConnectedPin)
    keys = []
    pad = MatrixKeypad(ROWS, COLS, pin_factory=board, debounce=2)
    pad.start(keys.append, thread=False)
    return pad, keys


def test_each_key_is_reported_once_per_press_after_debounce(board):
    pad, keys = keypad_on(board)
    press(board, 0, 0)  # "1"
    pad.poll()
    assert keys == []  # one scan is not enough: a bounce
    pad.poll()
    pad.poll()
    assert keys == ["1"]  # held: reported once
    release(board, 0)
    pad.poll()
    press(board, 3, 2)  # "enter"
    pad.poll()
    pad.poll()
    release(board, 3)
    press(board, 3, 1)  # "0"
    pad.poll()
    pad.poll()
    assert keys == ["1", "enter", "0"]
    pad.stop()


def test_a_bounce_shorter_than_the_debounce_is_ignored(board):
    pad, keys = keypad_on(board)
    press(board, 1, 1)
    pad.poll()
    release(board, 1)
    pad.poll()
    press(board, 1, 1)
    pad.poll()
    assert keys == []
    pad.stop()


def test_configuration_builds_it_and_names_mistakes(tmp_path):
    from hal.keypad import configure_keypad as _check_keypad  # noqa: PLC0415

    cfg = {"backend": "matrix", "rows": ROWS, "cols": COLS, "pin_factory": "mock"}
    pad = make_keypad(cfg, tmp_path)
    assert isinstance(pad, MatrixKeypad) and pad.keys[9:] == ["clear", "0", "enter"]
    with pytest.raises(ValueError, match="rows"):
        _check_keypad({"backend": "matrix", "cols": COLS})
    with pytest.raises(ValueError, match="keys"):
        _check_keypad(dict(cfg, keys=["1", "2"]))
    with pytest.raises(ValueError, match="need 12 key names"):
        MatrixKeypad(ROWS, COLS, ["1"])
