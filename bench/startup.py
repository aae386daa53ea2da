"""Cold start to the sale screen ready (under Xvfb), and peak RSS, against a bare Kivy window.

Each run is a fresh process. "Ours" goes the way `pos-terminal run` does (configure Kivy,
open the database, load the catalogue, build every screen, draw the first frame), then
signs in with the demo cashier's PIN (Argon2id with the production parameters) and
stops when the sale screen has drawn. The baseline is a Kivy window showing one Label.
The database is created and seeded once before timing: a terminal starts on its
existing database, not an empty one. It runs twice: on a new store, and on one with five
years of a busy shop (500,000 sales with their journal, ``bench/big_store.py``): what
runs at start must not grow with the years (goal: under 3 s at that size).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# BENCH_QUICK=1: one run only, so the tests can check that the benchmark runs
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = 1 if QUICK else 5
YEARS_OF_SALES = 5_000 if QUICK else 500_000

PROBE = r"""
import os, sys, time, tomllib
sys.path.insert(0, ROOT)
from pathlib import Path
mode, data_dir = sys.argv[1], Path(sys.argv[2])
from terminal.config import UiSettings, parse_settings
from terminal.ui.kivy_setup import configure_kivy
ui = UiSettings(fullscreen=False, width=800, height=480, dpi=133)
configure_kivy(ui, data_dir, headless=True)
if mode == "baseline":
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.label import Label
    EventLoop.ensure_window()
    Window.add_widget(Label(text="baseline"))
    EventLoop.idle()
    print("READY", flush=True)
    sys.exit(0)
from terminal.i18n import set_locale
from terminal.services.bootstrap import build_terminal
doc = tomllib.load(open(os.path.join(ROOT, "config", "pos.toml"), "rb"))
doc["terminal"]["data_dir"] = str(data_dir)
settings = parse_settings(doc)
set_locale(settings.store.locale)
terminal = build_terminal(settings)
if mode == "seed":
    sys.exit(0)
from kivy.base import EventLoop
from kivy.core.window import Window
from terminal.ui.app import PosRoot
from terminal.ui.driver import UiDriver
EventLoop.ensure_window()
root = PosRoot(terminal.pos, settings)
root.attach()
Window.add_widget(root)
EventLoop.idle()
print("SIGNIN", flush=True)
ui = UiDriver()
ui.type("1"); ui.key("enter"); ui.type("1357"); ui.key("enter")
ui.wait_until(lambda: root.current == "sale")
EventLoop.idle()
print("READY", flush=True)
"""


def ensure_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "800x480x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        os.environ["DISPLAY"] = ":" + pipe.readline().strip()
    return proc


def run(mode: str, data_dir: Path) -> tuple[dict[str, float], float]:
    """Seconds to each marker line, and the child's peak RSS in MiB."""
    env = dict(os.environ, KIVY_NO_CONSOLELOG="1", ROOT=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", f"ROOT = {str(ROOT)!r}\n" + PROBE, mode, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    marks = {}
    for line in proc.stdout:
        marks[line.strip()] = time.perf_counter() - start
    _pid, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{mode} probe failed with status {status}")
    return marks, usage.ru_maxrss / 1024


def with_years_of_sales(data_dir: Path) -> str:
    """A seeded store, then five years of sales on it; its size."""
    import tomllib  # noqa: PLC0415

    from big_store import add_history, describe  # noqa: PLC0415 - bench/ on the path

    from terminal.config import parse_settings  # noqa: PLC0415

    run("seed", data_dir)
    with open(ROOT / "config" / "pos.toml", "rb") as fh:
        doc = tomllib.load(fh)
    doc["terminal"]["data_dir"] = str(data_dir)
    settings = parse_settings(doc)
    seconds = add_history(settings, YEARS_OF_SALES)
    return f"{YEARS_OF_SALES:,} sales, {describe(settings)}, filled in {seconds:.0f} s"


def main() -> None:
    xvfb = ensure_display()
    tmp = Path(tempfile.mkdtemp(prefix="pos-startup-"))
    try:
        run("seed", tmp / "ours")
        big = with_years_of_sales(tmp / "years")
        if not QUICK:  # warm the file cache for all alike (the suite only checks it runs)
            run("baseline", tmp / "base")
            run("ours", tmp / "ours")
            run("ours", tmp / "years")
        base, ours, signin, base_rss, ours_rss, years, years_rss = [], [], [], [], [], [], []
        for _ in range(RUNS):
            marks, rss = run("baseline", tmp / "base")
            base.append(marks["READY"])
            base_rss.append(rss)
            marks, rss = run("ours", tmp / "ours")
            signin.append(marks["SIGNIN"])
            ours.append(marks["READY"])
            ours_rss.append(rss)
            marks, rss = run("ours", tmp / "years")
            years.append(marks["READY"])
            years_rss.append(rss)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if xvfb:
            xvfb.terminate()
    med = statistics.median
    print(f"Cold start under Xvfb (800x480, Mesa llvmpipe), median of {RUNS} runs")
    print(f"  bare Kivy window + label     : {med(base):.2f} s   peak RSS {max(base_rss):.0f} MiB")
    print(f"  pos-terminal sign-in screen  : {med(signin):.2f} s")
    print(
        f"  pos-terminal sale screen     : {med(ours):.2f} s   peak RSS {max(ours_rss):.0f} MiB"
        "  (incl. one Argon2id PIN check)"
    )
    print(
        f"  ratio (sale screen / bare)   : {med(ours) / med(base):.2f}x time, "
        f"{max(ours_rss) / max(base_rss):.2f}x memory"
    )
    print(
        f"  with five years of sales     : {med(years):.2f} s   peak RSS {max(years_rss):.0f} MiB"
    )
    print(f"    ({big})")
    print(
        f"  ratio (years / new store)    : {med(years) / med(ours):.2f}x   "
        f"goal < 3 s: {'met' if med(years) < 3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
