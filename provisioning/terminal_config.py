"""The terminal's one configuration file, written from the image's template at the first
boot: the template's text with some values replaced in place (its comments, which
document every setting, kept), then checked by the terminal's own loader."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

HEADER = re.compile(r"^\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$")
VALUE = r'("(?:[^"\\]|\\.)*"|\S+)'


def toml_string(value: str | Path) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def toml_literal(value: object) -> str:
    """A TOML value for a string, a number, a boolean or a list of them (what a device's
    settings hold). ValueError for anything else (a table within a device's settings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    raise ValueError(f"{value!r}: not a value a device's setting takes")


def with_values(text: str, values: dict[str, dict[str, str]]) -> str:
    """``text`` with ``values[section][key]`` (TOML literals) set: an existing ``key =``
    line of the section keeps its comment; a missing key is added under the section's
    header; a missing section is added at the end. ValueError if the result is not TOML."""
    lines = text.splitlines()
    for section, pairs in values.items():
        start = next(
            (i for i, line in enumerate(lines) if (m := HEADER.match(line)) and m[1] == section),
            None,
        )
        if start is None:
            lines += ["", f"[{section}]"] + [f"{k} = {v}" for k, v in pairs.items()]
            continue
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        )
        for key, value in pairs.items():
            pattern = re.compile(rf"^{re.escape(key)}\s*=\s*{VALUE}")
            for i in range(start + 1, end):
                match = pattern.match(lines[i])
                if match:
                    lines[i] = lines[i][: match.start(1)] + value + lines[i][match.end(1) :]
                    break
            else:
                lines.insert(start + 1, f"{key} = {value}")
                end += 1
    result = "\n".join(lines) + "\n"
    try:
        tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the configuration written would not be TOML: {exc}") from None
    return result


def write_atomically(path: Path, text: str, mode: int = 0o640) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
