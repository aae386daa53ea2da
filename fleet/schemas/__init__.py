"""The JSON Schema of each fleet message, generated from ``terminal.core.fleet_protocol``
and ``terminal.core.enrollment_protocol`` (the definitions both sides decode with).
``python -m fleet.schemas`` writes them again; ``tests/fleet/test_protocol.py`` fails
when they are out of step."""

from __future__ import annotations

import json
from pathlib import Path

from terminal.core import enrollment_protocol, fleet_protocol

HERE = Path(__file__).resolve().parent


def rendered() -> dict[str, str]:
    """File name -> text, as written."""
    return {
        f"{name}.schema.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in {
            **fleet_protocol.json_schemas(),
            **enrollment_protocol.json_schemas(),
        }.items()
    }


def write() -> list[Path]:
    written = []
    for name, text in rendered().items():
        (HERE / name).write_text(text, encoding="utf-8")
        written.append(HERE / name)
    return written
