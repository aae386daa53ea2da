"""Start a private Xvfb server (Mesa software GL for Kivy) and know its display number."""

from __future__ import annotations

import os
import shutil
import subprocess


def start_xvfb(screen: str = "1920x1080x24") -> tuple[str, subprocess.Popen]:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("Xvfb is not installed: run `make test`, which installs it")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # written by Xvfb once it accepts clients
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return f":{number}", proc
