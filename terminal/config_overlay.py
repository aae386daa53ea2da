"""A store file over the terminal's configuration file (``pos-terminal --store FILE``).

A store file holds one shop's own sections (``[store]``, ``[taxes.*]``,
``[weighed_barcodes]``, ``[loyalty]``, ``[cash_reasons]``...) and its own
``[terminal] data_dir``; each of its sections replaces the same section of the main file
whole (a store's tax classes are its own, none of the main file's are left over). The
terminal's own sections (hardware, security, screen, fleet) stay the main file's. This is
how ``make run STORE=mn`` runs one terminal configuration as any of the demo stores, each
with its own database.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from terminal.core.errors import ConfigError

# the machine's own sections: a store file that carried them would make one shop's file
# decide another terminal's hardware or keys
MACHINE_SECTIONS = ("hardware", "security", "ui", "fleet")
# what a store file may set of [terminal]: its database's directory, and nothing else
TERMINAL_KEYS = ("data_dir",)
_SECTION = re.compile(r"^([A-Za-z_]+)")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a table; ``what`` names it in the errors (configuration, store)."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a directory, not a {what} file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def overlay(doc: dict[str, Any], store: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the store file's sections in place of its own; the store file checked
    for sections and keys it may not set."""
    for section, value in store.items():
        if section in MACHINE_SECTIONS:
            raise ConfigError(
                f"[{section}]: belongs to the terminal's configuration file, not a store file"
            )
        if not isinstance(value, dict | list):
            raise ConfigError(f"{section}: expected a section (a table), got {value!r}")
    term = store.get("terminal")
    if not isinstance(term, dict) or not isinstance(term.get("data_dir"), str):
        raise ConfigError(
            "terminal.data_dir: missing; a store file names its own data directory, so each "
            'store keeps its own database (e.g. data_dir = "var/mn")'
        )
    for key in term:
        if key not in TERMINAL_KEYS:
            raise ConfigError(f"terminal.{key}: a store file sets only terminal.data_dir")
    main_term = doc.get("terminal") if isinstance(doc.get("terminal"), dict) else {}
    if term["data_dir"] == main_term.get("data_dir", "var"):
        raise ConfigError(
            f"terminal.data_dir: {term['data_dir']!r} is the configuration file's own; a "
            "store needs a directory of its own (its database holds its shop)"
        )
    merged = {**doc, **{k: v for k, v in store.items() if k != "terminal"}}
    merged["terminal"] = {**main_term, **term}
    return merged


def blame(exc: ConfigError, store: dict[str, Any], config: Path, store_path: Path) -> ConfigError:
    """An error in the merged settings, named after the file its section came from."""
    match = _SECTION.match(str(exc))
    section = match.group(1) if match else ""
    if section in store and not (section == "terminal" and "data_dir" not in str(exc)):
        return ConfigError(f"{store_path}: {exc}")
    return ConfigError(f"{config}: {exc}")
