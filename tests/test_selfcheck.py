"""``pos-terminal selfcheck``: what the image build runs inside the built root file system,
here against the shipped simulator configuration in a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.cli import main
from tests.conftest import CONFIG


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped configuration with its data under tmp_path, Kivy's home there too."""
    monkeypatch.setenv("KIVY_HOME", str(tmp_path / "kivy"))
    (tmp_path / "kivy").mkdir()
    path = tmp_path / "pos.toml"
    path.write_text(
        CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{tmp_path / "data"}"')
    )
    return path


def test_all_checks_pass_on_a_fresh_data_dir(config: Path, tmp_path: Path, capsys) -> None:
    assert main(["--config", str(config), "selfcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("ok") for line in lines[:-1]), lines
    for name in ("configuration loads", "import kivy", "import sqlcipher3", "import escpos"):
        assert any(line.startswith(f"ok     {name}") for line in lines), name
    assert any(line.startswith("ok     database opens") for line in lines)
    for device in ("printer", "drawer", "scanner", "keypad", "card"):
        assert any(line.startswith(f"ok     device {device}") for line in lines), device
    assert lines[-1] == f"selfcheck: all {len(lines) - 1} checks ok"
    # the key store was made with the configured (file) protector, the database is there
    assert (tmp_path / "data" / "pos.db").exists()
    assert (tmp_path / "data" / "keys").is_dir()


def test_a_broken_configuration_is_named_and_fails(config: Path, capsys) -> None:
    config.write_text(config.read_text().replace("[store]\n", '[store]\ncolour = "red"\n', 1))
    assert main(["--config", str(config), "selfcheck"]) != 0
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert failed[0].startswith("FAILED configuration loads:")
    assert "store.colour: unknown key" in failed[0]
    assert "FAILED database opens: no configuration" in out
    assert out.splitlines()[-1].startswith("selfcheck: 3 of ")


def test_a_device_that_cannot_open_fails(config: Path, capsys) -> None:
    """A serial scanner whose line is not there: its device line fails, the rest pass."""
    text = config.read_text()
    start = text.index("backend =", text.index("[hardware.scanner]"))
    end = text.index("\n", start)
    config.write_text(
        text[:start] + 'backend = "serial"\ndevice = "/dev/serial/by-id/none"' + text[end:]
    )
    assert main(["--config", str(config), "selfcheck"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("FAILED")] == [
        "FAILED device scanner (serial): RuntimeError: scanner-missing"
    ]
