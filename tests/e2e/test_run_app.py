"""`pos-terminal run` as a cashier meets it: its own process, full screen on an X display,
real key events from X (xdotool) through SDL into the app, a scan on the simulator's pipe.

Synchronises on what the app leaves behind - its window, its log lines, the receipt
file - with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hal.printer.preview import interpret
from tests.conftest import CONFIG, ROOT
from tests.xvfb import start_xvfb

DEADLINE = 60.0


def wait_for(condition, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"never happened: {what}")


def start_app(display: str, data: Path, tmp_path: Path) -> subprocess.Popen:
    """`pos-terminal run` on ``display`` with the shipped configuration, data in ``data``."""
    shipped = CONFIG.read_text()
    assert 'data_dir = "var"' in shipped and "fullscreen = true" in shipped
    config = tmp_path / "pos.toml"
    config.write_text(shipped.replace('data_dir = "var"', f'data_dir = "{data}"'))
    return subprocess.Popen(
        [sys.executable, "-m", "terminal", "run", "--config", str(config)],
        cwd=ROOT,
        env=dict(os.environ, DISPLAY=display),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def app_window(display: str) -> str:
    """The app's X window id, once it exists (found by its class, pos-terminal)."""
    env = dict(os.environ, DISPLAY=display)
    return wait_for(
        lambda: subprocess.run(
            ["xdotool", "search", "--class", "^pos-terminal$"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.split(),
        "the app's window",
    )[0]


def stop(app: subprocess.Popen) -> None:
    app.send_signal(signal.SIGTERM)
    try:
        app.wait(15)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait(5)


@pytest.fixture
def display():
    if shutil.which("xdotool") is None:
        raise RuntimeError("xdotool is not installed: run `make test`, which installs it")
    name, proc = start_xvfb("800x480x24")
    yield name
    proc.terminate()
    proc.wait(10)


def test_cash_sale_in_the_running_app(display, tmp_path):
    data = tmp_path / "var"
    env = dict(os.environ, DISPLAY=display)
    app = start_app(display, data, tmp_path)
    log = data / "logs" / "pos.log"

    def xdotool(*args: str) -> str:
        return subprocess.run(
            ["xdotool", *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        ).stdout

    def logged(text: str, count: int = 1) -> bool:
        return log.exists() and log.read_text().count(text) >= count

    try:
        window = app_window(display)
        geometry = xdotool("getwindowgeometry", window)
        assert "800x480" in geometry  # full screen on the 800x480 display
        xdotool("windowfocus", "--sync", window)
        xdotool("type", "--delay", "30", "1")
        xdotool("key", "Return")
        xdotool("type", "--delay", "30", "1357")
        xdotool("key", "Return")
        wait_for(lambda: logged("cashier 1 signed in"), "sign-in")
        xdotool("type", "--delay", "30", "200000")  # no shift open yet: the opening float
        xdotool("key", "Return")
        wait_for(lambda: logged("shift 1 opened"), "the shift to open")

        with open(data / "sim" / "scanner", "w") as pipe:  # the simulated scanner
            pipe.write("8991002101111\n")
        wait_for(lambda: logged("line added: TEH-BTL"), "the piped scan")
        xdotool("type", "--delay", "20", "8993003000011")  # a keyboard-wedge scan
        xdotool("key", "Return")
        wait_for(lambda: logged("line added: GULA-1KG"), "the wedge scan")
        xdotool("key", "F12")  # pay cash
        xdotool("key", "F12")  # again: the exact amount
        receipt = wait_for(
            lambda: (
                (data / "receipts" / "T01-000001.escpos").exists()
                and (data / "receipts" / "T01-000001.escpos")
            ),
            "the receipt",
        )
        text = "\n".join(interpret(receipt.read_bytes()).lines)
        assert "Teh Botol Sosro 450 ml" in text and "Gula Pasir Gulaku 1 kg" in text
        assert "Rp 23.000" in text  # 5.500 + 17.500
        assert len((data / "sim" / "drawer.log").read_text().splitlines()) == 1
        assert app.poll() is None  # still running, ready for the next sale
    finally:
        stop(app)
    # no PIN in anything the app wrote
    # as a token: timestamps and hex digests may hold the same four digits by chance
    assert not re.search(r"(?<![0-9A-Za-z])1357(?![0-9A-Za-z])", log.read_text())


def test_a_damaged_database_stops_the_terminal_on_its_screen(display, tmp_path):
    from terminal.config import parse_settings  # noqa: PLC0415
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415
    from tests.conftest import load_doc  # noqa: PLC0415

    data = tmp_path / "var"
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(data)
    terminal = build_terminal(parse_settings(doc), pin_params=FAST_TEST_PARAMS)
    terminal.pos.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    terminal.pos.db.close()
    damaged = bytearray((data / "pos.db").read_bytes())
    damaged[4096 * 2 + 50 : 4096 * 2 + 90] = bytes(40)
    (data / "pos.db").write_bytes(bytes(damaged))

    app = start_app(display, data, tmp_path)
    log_file = data / "logs" / "pos.log"
    try:
        app_window(display)  # the stopped screen's window
        # the integrity check of every page runs off the start path, at once
        wait_for(lambda: "terminal stopped" in log_file.read_text(), "the integrity check")
        log = log_file.read_text()
        assert "terminal stopped" in log and "pos-terminal restore" in log
    finally:
        stop(app)
    assert "pos-terminal restore" in app.stderr.read()


def test_a_lost_database_stops_the_terminal_and_says_what_to_do(display, tmp_path):
    """The key store remembers the database: deleted, the terminal does not start afresh
    (it would print receipt numbers again) but shows why and what a technician does."""
    from terminal.config import parse_settings  # noqa: PLC0415
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415
    from tests.conftest import load_doc, with_open_shift  # noqa: PLC0415

    data = tmp_path / "var"
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(data)
    terminal = with_open_shift(build_terminal(parse_settings(doc), pin_params=FAST_TEST_PARAMS))
    terminal.pos.sign_in("1", "1357")
    terminal.pos.scan("GULA-1KG")
    terminal.pos.pay_cash(20000)
    terminal.stop()
    terminal.pos.db.close()
    for suffix in ("", "-wal", "-shm"):
        (data / f"pos.db{suffix}").unlink(missing_ok=True)

    shots = Path(os.environ.get("POS_SHOTS") or tmp_path / "shots")
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{data}"'))
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "terminal",
            "run",
            "--config",
            str(config),
            "--screenshots",
            str(shots),
        ],
        cwd=ROOT,
        env=dict(os.environ, DISPLAY=display),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        app_window(display)
        shot = wait_for(lambda: (shots / "stopped.png").exists() and shots / "stopped.png", "shot")
        assert shot.stat().st_size > 5000  # a screen with text on it, not a blank one
        log = (data / "logs" / "pos.log").read_text()
        assert "is missing" in log and "pos-terminal restore" in log and "db reset" in log
        assert not (data / "pos.db").exists()  # nothing was started afresh
    finally:
        stop(app)
    assert "is missing" in app.stderr.read()


def test_a_pin_typed_on_a_hardware_keypad_signs_in(display, tmp_path):
    """The keypad is a device of its own (here the simulator, fed through its pipe as a
    technician would): the app starts it, and its keys reach the sign-in screen."""
    data = tmp_path / "var"
    config = tmp_path / "pos.toml"
    shipped = CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{data}"')
    assert 'backend = "keyboard"' in shipped
    config.write_text(shipped.replace('backend = "keyboard"', 'backend = "simulator"', 1))
    app = subprocess.Popen(
        [sys.executable, "-m", "terminal", "run", "--config", str(config)],
        cwd=ROOT,
        env=dict(os.environ, DISPLAY=display),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = data / "logs" / "pos.log"
    try:
        app_window(display)
        pipe = wait_for(
            lambda: (data / "sim" / "keypad").exists() and data / "sim" / "keypad", "pipe"
        )
        with open(pipe, "w") as keypad:  # the cashier's number, Enter, the PIN, Enter
            keypad.write("1\nenter\n1\n3\n5\n7\nenter\n")
        wait_for(lambda: log.exists() and "cashier 1 signed in" in log.read_text(), "sign-in")
    finally:
        stop(app)
    assert not re.search(r"(?<![0-9A-Za-z])1357(?![0-9A-Za-z])", log.read_text())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_end_cleanly_with_a_stop_entry(display, tmp_path, sig):
    from terminal.store.db import open_database  # noqa: PLC0415
    from terminal.store.journal import read_entries  # noqa: PLC0415
    from terminal.store.keystore import KeyStore  # noqa: PLC0415

    data = tmp_path / "var"
    app = start_app(display, data, tmp_path)
    app_window(display)
    log = data / "logs" / "pos.log"
    wait_for(lambda: log.exists() and "terminal T01 started" in log.read_text(), "the start")
    app.send_signal(sig)
    assert app.wait(30) == 0
    assert "Traceback" not in app.stderr.read()
    keys = KeyStore.open_existing(data / "keys")
    db = open_database(data / "pos.db", keys.key("database"))
    try:
        assert [e["type"] for e in read_entries(db)][-1] == "stop"
        assert keys.memory["event"] == "stop"
    finally:
        db.close()


def test_full_screen_fills_a_1280x720_display_without_a_window_manager(tmp_path):
    """A kiosk has no window manager: the window is made as large as the display."""
    from PIL import Image  # noqa: PLC0415

    display, xvfb = start_xvfb("1280x720x24")  # (no window manager runs on it)
    data, shots = tmp_path / "var", tmp_path / "shots"
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{data}"'))
    env = dict(os.environ, DISPLAY=display)
    command = [sys.executable, "-m", "terminal", "run", "--config", str(config)]
    app = subprocess.Popen(
        [*command, "--screenshots", str(shots)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        window = app_window(display)
        geometry = subprocess.run(
            ["xdotool", "getwindowgeometry", window], env=env, capture_output=True, text=True
        ).stdout
        assert "Position: 0,0" in geometry and "1280x720" in geometry
        for keys in (["type", "1"], ["key", "Return"], ["type", "1357"], ["key", "Return"]):
            subprocess.run(["xdotool", *keys], env=env, check=True, timeout=DEADLINE)
        shot = wait_for(
            lambda: (shots / "screen-sale.png").exists() and shots / "screen-sale.png", "shot"
        )
        wait_for(lambda: Image.open(shot).size == (1280, 720), "a full-size screenshot", 10)
    finally:
        stop(app)
        xvfb.terminate()
        xvfb.wait(10)
