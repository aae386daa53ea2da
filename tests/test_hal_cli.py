"""pos-hal, the technician's tool, against the simulated devices of the shipped config."""

from __future__ import annotations

import errno
import threading

import pytest

from hal.printer.preview import interpret
from terminal.hal_cli import device_problem, main


@pytest.fixture
def config(tmp_path):
    from tests.conftest import CONFIG  # noqa: PLC0415

    path = tmp_path / "pos.toml"
    path.write_text(
        CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"')
    )
    return path


def test_list(config, capsys):
    assert main(["--config", str(config), "--lang", "en", "list"]) == 0
    out = capsys.readouterr().out
    assert "printer  simulator" in out and "card     simulator" in out
    assert "state:\n  printer  ok" in out


def test_print_test_ticket(config, tmp_path, capsys):
    assert main(["--config", str(config), "--lang", "en", "print-test"]) == 0
    data = (tmp_path / "var" / "receipts" / "print-test.escpos").read_bytes()
    lines = interpret(data).lines
    assert lines[0] == "POS TERMINAL STATUS"
    assert any(line.startswith("card") and line.endswith("simulator") for line in lines)


def test_drawer_pulse(config, tmp_path):
    assert main(["--config", str(config), "drawer"]) == 0
    assert "pulse 100 ms" in (tmp_path / "var" / "sim" / "drawer.log").read_text()


def test_card_commands_speak_zvt_to_the_simulator(config, capsys):
    assert main(["--config", str(config), "--lang", "en", "card", "status"]) == 0
    assert "card terminal: ready; software SIM-1.0" in capsys.readouterr().out
    assert main(["--config", str(config), "--lang", "en", "card", "diagnose"]) == 0
    assert "registration: ok; terminal id 52500001" in capsys.readouterr().out
    assert main(["--config", str(config), "card", "end-of-day"]) == 0


def test_scan_from_the_simulator_pipe(config, tmp_path, capsys):
    pipe = tmp_path / "var" / "sim" / "scanner"

    def scan():
        import time  # noqa: PLC0415

        while not pipe.exists():
            time.sleep(0.01)
        with open(pipe, "w") as fh:
            fh.write("8991002101111\n")

    threading.Thread(target=scan, daemon=True).start()
    assert main(["--config", str(config), "--lang", "en", "scan", "--timeout", "10"]) == 0
    out = capsys.readouterr().out
    assert "waiting for 1 scan, 10 s at most ..." in out
    assert "scanned: 8991002101111" in out


def test_device_problems_name_the_fix():
    denied = device_problem(OSError(errno.EACCES, "Permission denied"), "card", "/dev/ttyUSB0")
    assert "dialout" in denied and "99-pos-terminal.rules" in denied and "/dev/ttyUSB0" in denied
    missing = device_problem(OSError(errno.ENOENT, "No such file"), "printer", "/dev/usb/lp0")
    assert "/dev/serial/by-id/" in missing


def test_a_missing_serial_card_terminal_is_named(tmp_path, capsys):
    from tests.conftest import CONFIG  # noqa: PLC0415

    path = tmp_path / "pos.toml"
    text = CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{tmp_path}"')
    text = text.replace(
        'backend = "simulator"       # simulator: the ZVT',
        'backend = "zvt-serial"\ndevice = "/dev/serial/by-id/nope"\n# the ZVT',
    )
    text = text.replace("approve_after = 2.0", "# approve_after = 2.0")  # the simulator's
    path.write_text(text)
    assert main(["--config", str(path), "card", "status"]) == 3
    err = capsys.readouterr().err
    assert "card terminal not connected" in err and "/dev/serial/by-id/" in err


def test_keypad_tester_masks_digits(config, capsys, monkeypatch):
    from hal.keypad import SimulatorKeypad  # noqa: PLC0415

    keypad = SimulatorKeypad()
    started = threading.Event()
    real_start = keypad.start

    def start(on_key=None):
        real_start(on_key)
        started.set()

    keypad.start = start
    monkeypatch.setattr("terminal.hal_cli.make_keypad", lambda cfg, data_dir: keypad)
    text = config.read_text().replace('backend = "keyboard"', 'backend = "simulator"', 1)
    config.write_text(text)

    def fingers():
        started.wait(5)
        for key in ("2", "5", "8", "enter"):
            keypad.press(key)

    threading.Thread(target=fingers).start()
    args = ["--config", str(config), "--lang", "en", "keypad", "--count", "4", "--timeout", "5"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("key: \u2022 (a digit)") == 3 and "key: enter" in out
    assert "2" not in out.split("at most ...")[1]  # no digit shown


def test_printer_sim_sets_the_running_terminals_printer_from_outside(config, tmp_path, caplog):
    """A technician (or a demo) puts the simulator printer out of paper, opens its cover,
    runs it near its end and back to normal, from another process than the terminal's."""
    from terminal.config import load_settings  # noqa: PLC0415
    from terminal.services.bootstrap import build_terminal  # noqa: PLC0415
    from terminal.store.cashiers import FAST_TEST_PARAMS  # noqa: PLC0415
    from tests.conftest import with_open_shift  # noqa: PLC0415

    terminal = with_open_shift(build_terminal(load_settings(config), pin_params=FAST_TEST_PARAMS))
    pos = terminal.pos
    pos.sign_in("1", "1357")
    printer = pos.printer
    assert printer.health() == []
    assert main(["--config", str(config), "printer-sim", "paper-out"]) == 0
    assert printer.health() == ["paper-out"]
    pos.scan("GULA-1KG")
    outcome = pos.pay_cash(20000)  # the sale is kept, its receipt waits for paper
    assert outcome.print_error and not printer.jobs
    assert main(["--config", str(config), "printer-sim", "cover-open"]) == 0
    assert printer.health() == ["cover-open"]
    assert main(["--config", str(config), "printer-sim", "paper-near-end"]) == 0
    assert printer.health() == ["paper-near-end"]
    assert pos.resume_printing()[0] == 1  # near its end it still prints
    assert main(["--config", str(config), "printer-sim", "normal"]) == 0
    assert printer.health() == []
    # a word written by hand that is not a condition: said once in the log, ignored
    (tmp_path / "var" / "sim" / "printer").write_text("jammed\n")
    assert printer.health() == [] and printer.health() == []
    assert caplog.text.count("'jammed' is not a printer condition") == 1
    with pytest.raises(SystemExit):  # the command takes only the four conditions
        main(["--config", str(config), "printer-sim", "jammed"])


# -- the technician's language ---------------------------------------------------------------


def test_pos_hal_speaks_the_language_asked_for(config, capsys):
    """``--lang`` overrides the shop's language: Mongolian and Chinese from the catalogues;
    device kinds, backends and the terminal's answers stay as they are."""
    assert main(["--config", str(config), "--lang", "mn", "card", "status"]) == 0
    assert "картын терминал: бэлэн; програм хангамж SIM-1.0" in capsys.readouterr().out
    assert main(["--config", str(config), "--lang", "mn", "list"]) == 0
    out = capsys.readouterr().out
    assert "тохируулсан:" in out and "printer  simulator" in out
    assert "төлөв:\n  printer  хэвийн" in out
    assert main(["--config", str(config), "--lang", "zh", "card", "status"]) == 0
    assert "刷卡机：就绪；软件 SIM-1.0" in capsys.readouterr().out
    assert main(["--config", str(config), "--lang", "zh", "drawer"]) == 0
    assert "钱箱：已发送一次开箱脉冲" in capsys.readouterr().out


def test_pos_hal_help_is_in_the_language_asked_for(config, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "--lang", "zh", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：pos-hal") and "--lang LANG" in out
    assert "从外部设置模拟打印机的状态" in out and "en, id, mn, zh" in out
    with pytest.raises(SystemExit):
        main(["--config", str(config), "--lang", "mn", "card", "--help"])
    assert "картын терминалтай харилцана" in capsys.readouterr().out


def test_pos_hal_speaks_the_shops_language_by_default(config, capsys):
    """The shipped configuration's shop speaks Indonesian (store.locale = "id")."""
    from terminal.config import load_settings  # noqa: PLC0415
    from terminal.i18n import current_locale  # noqa: PLC0415

    assert load_settings(config).store.locale == "id"
    before = current_locale()
    assert main(["--config", str(config), "card", "status"]) == 0
    assert "terminal kartu: siap; perangkat lunak SIM-1.0" in capsys.readouterr().out
    assert main(["--config", str(config), "drawer"]) == 0
    assert "laci: satu pulsa pembuka dikirim" in capsys.readouterr().out
    assert current_locale() == before  # in-process (tests), the language is left as found
    mongolian = config.read_text().replace('locale = "id"', 'locale = "mn"', 1)
    config.write_text(mongolian)
    assert main(["--config", str(config), "drawer"]) == 0
    assert "шургуулга: нээх нэг импульс илгээлээ" in capsys.readouterr().out


def test_an_unreadable_configuration_is_said_in_english(tmp_path, capsys):
    """No shop language to be had: English, and the configuration error named."""
    broken = tmp_path / "pos.toml"
    broken.write_text("[store\n")
    assert main(["--config", str(broken), "list"]) == 2
    assert "pos-hal: configuration error:" in capsys.readouterr().err


def test_display_test_shows_two_lines_on_the_simulated_display(config, capsys):
    assert main(["--config", str(config), "--lang", "en", "display-test"]) == 0
    out = capsys.readouterr().out
    assert "|T01 Toko Demo Sejaht|" in out  # the terminal and its store, cut to 20
    assert "two lines sent to the simulator customer display" in out
