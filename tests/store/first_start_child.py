"""A terminal's first start, to be killed in the middle of it.

Run by tests/store/test_continuity.py as ``python -m tests.store.first_start_child DIR``:
prints ``ready`` once imported, then makes the key store, the database and the demo
store, then prints ``started``.
"""

from __future__ import annotations

import sys

from terminal.config import parse_settings
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import load_doc


def main(data_dir: str) -> None:
    doc = load_doc()
    doc["terminal"]["data_dir"] = data_dir
    doc["hardware"]["printer"]["backend"] = "dummy"
    settings = parse_settings(doc)
    print("ready", flush=True)
    build_terminal(settings, pin_params=FAST_TEST_PARAMS)
    print("started", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
