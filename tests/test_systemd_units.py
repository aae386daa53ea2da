"""The image's systemd units and udev rules, checked by systemd's own tools.

``systemd-analyze verify`` runs offline here (systemd is not PID 1 on a build machine):
``--root`` points it at a throw-away root holding systemd's own units (copied from this
machine, for the targets ours name), our units in ``/etc/systemd/system`` and an
executable stub at every path an ``Exec...=`` line names (verify refuses a unit whose
program is missing). ``--man=no --generators=no``: no man pages to look for, none of this
machine's generators run. ``systemd-analyze security --offline=true`` scores a unit file
as it is; the app's and the agent's scores are printed (``pytest -s``) and must match
those systemd/README.md records.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS_DIR = ROOT / "systemd"
UNITS = sorted(p.name for p in UNITS_DIR.iterdir() if p.suffix in (".service", ".timer"))
MAX_EXPOSURE = 3.0
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
EXEC = re.compile(r"^Exec\w*=[-@:+!]*(/\S+)", re.MULTILINE)
SCORE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+)")


def analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        raise RuntimeError("systemd-analyze is not installed: apt-get install systemd")
    return found


def make_root(root: Path, units: dict[str, str]) -> Path:
    """A root for ``verify --root``: systemd's units, ours, stubs for our programs."""
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    ours = root / "etc/systemd/system"
    ours.mkdir(parents=True)
    for name, text in units.items():
        (ours / name).write_text(text)
        for program in EXEC.findall(text):
            stub = root / program.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [analyze(), "verify", f"--root={root}", "--man=no", "--generators=no", unit],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice", SYSTEMD_PAGER="", LC_ALL="C.UTF-8"),
    )


@pytest.fixture(scope="module")
def image_root(tmp_path_factory) -> Path:
    units = {name: (UNITS_DIR / name).read_text() for name in UNITS}
    return make_root(tmp_path_factory.mktemp("root"), units)


def test_every_unit_of_the_image_is_here():
    assert UNITS == [
        "pos-agent.service",
        "pos-backup.service",
        "pos-backup.timer",
        "pos-firstboot.service",
        "pos-terminal.service",
    ]


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_verifies_the_unit(image_root, unit):
    done = verify(image_root, unit)
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


def test_verify_sees_a_mistake(tmp_path):
    """The check must be able to fail: an unknown setting and a missing program."""
    text = (UNITS_DIR / "pos-agent.service").read_text()
    bad = text.replace("Nice=10", "Nice=10\nProtectSistem=strict")
    root = make_root(tmp_path, {"bad.service": bad, "gone.service": text})
    assert "Unknown key" in verify(root, "bad.service").stderr
    (root / "opt/pos-terminal/.venv/bin/pos-terminal").unlink()
    done = verify(root, "gone.service")
    assert done.returncode != 0 and "is not executable" in done.stderr


def exposure(unit: str) -> float:
    done = subprocess.run(
        [analyze(), "security", "--offline=true", "--no-pager", unit],
        cwd=UNITS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, SYSTEMD_COLORS="0", LC_ALL="C.UTF-8"),
    )
    found = SCORE.search(done.stdout + done.stderr)
    assert found and found.group(1) == unit, done.stdout + done.stderr
    return float(found.group(2))


@pytest.mark.parametrize(
    "unit", ["pos-terminal.service", "pos-agent.service", "pos-backup.service"]
)
def test_exposure_is_low_and_recorded_in_the_readme(unit):
    score = exposure(unit)
    print(f"\n{unit}: exposure {score}")
    assert score <= MAX_EXPOSURE
    readme = (UNITS_DIR / "README.md").read_text()
    assert f"`{unit}`: {score}" in readme, f"record the score in systemd/README.md: {score}"


def settings(unit: str) -> dict[str, list[str]]:
    """Each key of the unit file with its values, in order (sections ignored)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS_DIR / unit).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_first_boot_comes_first_and_its_failure_stops_the_app_and_agent():
    boot = settings("pos-firstboot.service")
    assert boot["ConditionPathExists"] == ["!/var/lib/pos-terminal/enrolled"]
    assert boot["StandardOutput"] == ["journal+console"] and boot["TTYPath"] == ["/dev/tty1"]
    assert boot["ExecStart"] == [
        "/opt/pos-terminal/.venv/bin/pos-provision firstboot"
        " --config /var/lib/pos-terminal/pos.toml"
    ]
    for unit in ("pos-terminal.service", "pos-agent.service"):
        these = settings(unit)
        assert "pos-firstboot.service" in these["Requires"]
        assert "pos-firstboot.service" in " ".join(these["After"])
        assert these["ExecStart"][0].endswith("--config /var/lib/pos-terminal/pos.toml")
        assert these["User"] == ["pos"] and these["DevicePolicy"] == ["closed"]
        assert "PrivateDevices" not in these  # it would hide /dev/dri, the TPM, ...


def test_the_app_is_a_watched_kiosk_on_kms():
    app = settings("pos-terminal.service")
    assert app["Type"] == ["notify"] and app["Restart"] == ["always"]
    assert app["WatchdogSec"] == ["30s"]
    env = " ".join(app["Environment"])
    assert "SDL_VIDEODRIVER=kmsdrm" in env and "KIVY_WINDOW=sdl2" in env
    assert app["SupplementaryGroups"] == ["input gpio dialout video render"]
    allowed = {value.split()[0] for value in app["DeviceAllow"]}
    assert {"char-drm", "char-input", "char-ttyUSB", "char-ttyACM", "char-ttyAMA"} <= allowed
    assert {"char-usb", "char-usb_device", "char-gpiochip", "char-tpm", "/dev/vcio"} <= allowed
    assert "/dev/watchdog" not in allowed


def backup_prune_command(directory: Path) -> list[str]:
    (line,) = settings("pos-backup.service")["ExecStartPost"]
    shell, flag, script = re.fullmatch(r"(\S+) (-c) '(.*)'", line).groups()
    assert "$" not in script and "%" not in script  # nothing for systemd to expand
    return [shell, flag, script.replace("/var/lib/pos-terminal/backups", str(directory))]


def test_the_nightly_backup_keeps_the_newest_seven(tmp_path):
    assert settings("pos-backup.service")["ExecStart"] == [
        "/opt/pos-terminal/.venv/bin/pos-terminal backup --config /var/lib/pos-terminal/pos.toml "
        "/var/lib/pos-terminal/backups"
    ]
    timer = settings("pos-backup.timer")
    assert timer["Persistent"] == ["true"] and timer["WantedBy"] == ["timers.target"]
    names = [f"pos-T01-202601{day:02d}T033000Z.posdb" for day in range(1, 11)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    stale, fresh = tmp_path / "pos-T01-old.posdb.partial", tmp_path / "pos-T01-now.posdb.partial"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    hours_ago = time.time() - 3 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    subprocess.run(backup_prune_command(tmp_path), check=True, timeout=30)
    assert sorted(p.name for p in tmp_path.glob("*.posdb")) == names[3:]
    assert not stale.exists() and fresh.exists()


RULE = re.compile(r'^(?:[A-Z]+(?:\{[\w]+\})?(?:==|!=|=|\+=|:=)"[^"]*"(?:, |$))+$')


def test_the_udev_rules_are_well_formed():
    rules = (UNITS_DIR / "99-pos-terminal.rules").read_text().splitlines()
    lines = [line for line in rules if line.strip() and not line.startswith("#")]
    assert len(lines) >= 10
    assert [line for line in lines if not RULE.match(line)] == []
    text = "\n".join(lines)
    assert 'KERNEL=="tpmrm[0-9]*", GROUP="pos"' in text
    assert 'KERNEL=="gpiochip[0-9]*", GROUP="gpio"' in text
