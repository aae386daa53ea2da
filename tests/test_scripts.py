"""Every shell script of the project passes shellcheck (all severities): the image's
install script runs as root in a chroot, where a quoting slip costs most."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shell_scripts() -> list[Path]:
    """Files ending in .sh, and extensionless files starting with a bash or sh shebang,
    under the project's script folders."""
    found = []
    for folder in ("scripts", "image-build", "systemd", "provisioning", ".ci"):
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or "out" in path.relative_to(ROOT).parts:
                continue
            if path.suffix == ".sh":
                found.append(path)
            elif not path.suffix:
                with path.open("rb") as fh:
                    first = fh.readline()
                if first.startswith(b"#!") and first.rstrip().endswith((b"bash", b"/sh")):
                    found.append(path)
    return found


def test_there_are_scripts_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert "image-build/install-into-root.sh" in names
    assert "image-build/files/pos-data-partition" in names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: apt-get install shellcheck"
    result = subprocess.run(
        [shellcheck, "--external-sources", str(script)],
        cwd=script.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
