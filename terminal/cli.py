"""``pos-terminal``: the app, and its admin subcommands.

pos-terminal run  [--config FILE]     start the full-screen terminal
pos-terminal demo [--config FILE]     run one scripted cash sale in the real app and
                                      save screenshots and the receipt under data_dir
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from terminal.config import Settings, load_settings
from terminal.core.errors import ConfigError
from terminal.i18n import set_locale
from terminal.services.bootstrap import build_terminal
from terminal.ui.kivy_setup import configure_kivy

DEFAULT_CONFIG = Path("config/pos.toml")


def setup_logging(settings: Settings) -> None:
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(), logging.FileHandler(log_dir / "pos.log")],
        force=True,  # python-escpos calls logging.basicConfig() when imported
    )


def _start(settings: Settings, *, headless: bool = False):
    """Kivy configured before its first import; then the terminal and its window."""

    set_locale(settings.store.locale)
    configure_kivy(settings.ui, settings.data_dir, headless=headless)
    return build_terminal(settings)


def cmd_run(settings: Settings) -> int:
    terminal = _start(settings)
    from terminal.ui.app import PosApp  # noqa: PLC0415 - Kivy only after configure_kivy

    PosApp(terminal.pos, settings, terminal.scanner).run()
    return 0


def cmd_demo(settings: Settings) -> int:
    terminal = _start(settings, headless=True)
    from terminal.ui.demo import run_demo  # noqa: PLC0415 - Kivy only after configure_kivy

    shots = run_demo(terminal.pos, settings, settings.data_dir / "screenshots")
    for path in shots:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pos-terminal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="run", choices=["run", "demo"])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        help="save a PNG of every screen reached into this directory",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"pos-terminal: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.screenshots:
        settings = dataclasses.replace(
            settings, ui=dataclasses.replace(settings.ui, screenshot_dir=args.screenshots)
        )
    setup_logging(settings)
    return {"run": cmd_run, "demo": cmd_demo}[args.command](settings)
