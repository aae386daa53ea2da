"""The customer pole display: its two command sets byte for byte (golden files, and the
bytes of the manuals written out here), each character set (Indonesian shops in ASCII,
Mongolian Cyrillic in CP866, Chinese in GB2312, two columns a character), the simulator
reading them back over a real pseudo-terminal, garbage on the line, and an unplugged
display that never holds the terminal up and shows as missing until it is back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import serial

from hal.device import DeviceConfigError
from hal.display import PoleDisplay, configure_display, make_display
from hal.display.commands import CommandSet, fit
from hal.display.simulator import DisplayScreen

GOLDEN = Path(__file__).parent / "data" / "display"
SCREENS = {
    "ascii": ("Teh Botol Sosro 450 ml", "TOTAL      Rp 57.300"),
    "cp866": ("Сүү Өндөр 1 л", "НИЙТ 12 500 төг"),
    "gb2312": ("可口可乐 330ml", "合计        元12.50"),
}


def test_the_manuals_bytes_for_two_lines():
    escpos = CommandSet("escpos")
    assert escpos.start() == bytes.fromhex("1b40 1f01 1f5804 0c")  # ESC @, US MD1, US X 4, CLR
    assert escpos.show("TOTAL", "Rp 5.500") == (
        bytes.fromhex("1f240101")
        + b"TOTAL"
        + b" " * 15
        + bytes.fromhex("1f240102")
        + b"Rp 5.500"
        + b" " * 12
    )
    cd5220 = CommandSet("cd5220")
    assert cd5220.start(2) == bytes.fromhex("1b40 1b2a02 0c")  # ESC @, ESC * 2, CLR
    assert cd5220.show("TOTAL", "Rp 5.500") == (
        b"\x1bQA" + b"TOTAL" + b" " * 15 + b"\r" + b"\x1bQB" + b"Rp 5.500" + b" " * 12 + b"\r"
    )
    assert CommandSet("escpos", code_table=17).start()[:5] == bytes.fromhex("1b40 1b7411")


@pytest.mark.parametrize("command_set", ["escpos", "cd5220"])
@pytest.mark.parametrize("charset", ["ascii", "cp866", "gb2312"])
def test_each_command_set_and_charset_against_its_golden_file(command_set, charset):
    commands = CommandSet(command_set, charset=charset)
    upper, lower = SCREENS[charset]
    data = commands.start() + commands.show(upper, lower)
    golden = GOLDEN / f"{command_set}-{charset}.bin"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(data)
    assert data == golden.read_bytes()
    screen = DisplayScreen(20, charset)
    for start in range(0, len(data), 3):  # as a serial line delivers it: in pieces
        screen.feed(data[start : start + 3])
    shown = screen.lines
    assert screen.garbage == 0
    if charset == "cp866":  # Mongolian's Ө and Ү: the table's nearest letters
        assert shown == ("Суу Ондор 1 л".ljust(20), "НИЙТ 12 500 тог".ljust(20))
    else:
        assert shown[0].rstrip() == upper[:20].rstrip() and shown[1].rstrip() == lower.rstrip()


def test_lines_are_cut_to_the_display_by_columns():
    assert fit("Teh Botol Sosro 450 ml", 20, "ascii") == b"Teh Botol Sosro 450 "
    assert len(fit("可口可乐可口可乐可口可乐", 20, "gb2312")) == 20  # ten characters, two bytes
    assert fit("可口", 20, "ascii") == b"??" + b" " * 18  # no Chinese in ASCII: never misread
    assert fit("₮ 5", 10, "cp866") == b"? 5" + b" " * 7


def test_garbage_on_the_line_is_counted_and_the_screen_survives():
    screen = DisplayScreen()
    commands = CommandSet("cd5220")
    screen.feed(commands.start() + b"\x1bZ\x00\x7f\x1f\x99" + commands.show("HALO", "Rp 1.000"))
    assert screen.lines == ("HALO".ljust(20), "Rp 1.000".ljust(20))
    assert screen.garbage >= 3


def test_the_simulator_shows_what_the_terminal_sends_over_a_pty(tmp_path):
    display = make_display({"backend": "simulator", "command_set": "cd5220"}, tmp_path)
    try:
        display.start()
        assert display.show("Teh Botol Sosro", "Rp 5.500")
        assert display.simulator.wait_for(lambda lines: lines[1].startswith("Rp 5.500"))
        assert display.simulator.screen.lines[0] == "Teh Botol Sosro".ljust(20)
        shown, deadline = tmp_path / "sim" / "display.txt", time.monotonic() + 5
        while not shown.exists() or "Rp 5.500" not in shown.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert display.health() == []
    finally:
        display.close()


class Unplugged:
    """A display line that the technician pulls out and puts back."""

    def __init__(self) -> None:
        self.plugged = True
        self.written = bytearray()

    def open(self):
        if not self.plugged:
            raise serial.SerialException("could not open port /dev/ttyUSB0")
        return self

    def write(self, data: bytes) -> int:
        if not self.plugged:
            raise serial.SerialException("write failed: device disconnected")
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_unplugged_display_is_missing_and_never_holds_the_terminal_up():
    line = Unplugged()
    now = [0.0]
    display = PoleDisplay(CommandSet("escpos"), line.open, clock=lambda: now[0])
    display.start()
    assert display.show("Teh Botol", "Rp 5.500") and display.health() == []
    line.plugged = False
    started = time.monotonic()
    assert display.show("Aqua", "Rp 9.000") is False
    assert display.show("Aqua", "Rp 12.500") is False  # not tried again at once
    assert time.monotonic() - started < 0.5
    assert display.health() == ["display-missing"]
    line.plugged = True
    now[0] += 10  # the next screen after a while opens the line again
    assert display.show("TOTAL", "Rp 12.500")
    assert display.health() == [] and display.shown == ("TOTAL", "Rp 12.500")
    assert line.written.endswith(CommandSet("escpos").show("TOTAL", "Rp 12.500"))


def test_settings_are_checked_with_the_key_named():
    assert configure_display({}).backend == "none"
    assert make_display({}, Path("/tmp")).present is False
    with pytest.raises(DeviceConfigError, match="device"):
        configure_display({"backend": "serial"})
    with pytest.raises(DeviceConfigError, match="unknown 'vga'"):
        configure_display({"backend": "vga"})
    with pytest.raises(DeviceConfigError, match="charset"):
        configure_display({"backend": "simulator", "charset": "latin9"})


def test_a_chinese_display_counts_every_character_past_ascii_as_two_columns():
    assert fit("Итого 12", 20, "gb2312") == "Итого".encode("gb2312") + b" 12" + b" " * 7
    assert len(fit("Crème brûlée à 12", 20, "gb2312")) == 20  # never past the line


def test_the_cyrillic_table_is_chosen_and_chosen_again_with_each_screen():
    escpos = CommandSet("escpos", charset="cp866")
    assert escpos.start().startswith(bytes.fromhex("1b40 1b7411"))  # PC866
    assert escpos.show("a", "b").startswith(bytes.fromhex("1b7411"))  # after a power cut too
    with pytest.raises(ValueError, match="CD5220 set has none"):
        CommandSet("cd5220", charset="cp866", code_table=17)
