"""Debian's Chromium, headless, driven by Selenium through Debian's chromedriver: nothing
downloads a browser or a driver (the driver's path is given, so Selenium Manager is not
asked). The flags are those this closed network needs: no background connections, no
component updates, a fresh profile."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1366, 900)
TABLET = (820, 1180)


INSTALL_HINT = (
    "Debian's chromium and chromium-driver are not installed: run `make test`, which "
    "installs them (or apt-get install chromium chromium-driver)"
)


def browser(size: tuple[int, int] = DESKTOP) -> webdriver.Chrome:
    """A new headless Chromium; ``driver.quit()`` ends it (and its profile is removed).
    Fails, naming the packages, when they are missing (a browser test is never skipped)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        raise RuntimeError(INSTALL_HINT)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--lang=en-US",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    quit_driver = driver.quit

    def quit_and_clean() -> None:
        try:
            quit_driver()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean  # type: ignore[method-assign]
    return driver
