"""Sells in a loop and prints each committed transaction number, until killed.

Run by tests/store/test_crash_safety.py as ``python -m tests.store.crash_child DATA_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from terminal.config import parse_settings
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import load_doc


def main(data_dir: str) -> None:
    doc = load_doc()
    doc["terminal"]["data_dir"] = data_dir
    doc["hardware"]["printer"]["backend"] = "dummy"  # the bytes, without PNG previews
    settings = parse_settings(doc)
    pos = build_terminal(settings, pin_params=FAST_TEST_PARAMS).pos
    pos.sign_in("1", "1357")
    if pos.shift is None:  # (still open after a kill)
        pos.shifts.open(0)
    codes = ["8991002101111", "GULA-1KG", "INDOMIE-G"]
    i = 0
    while True:
        pos.scan(codes[i % 3])
        pos.scan(codes[(i + 1) % 3])
        outcome = pos.pay_cash(100000)
        # only after pay_cash returned (COMMIT returned): report it as committed
        sys.stdout.write(f"{outcome.committed.number}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main(str(Path(sys.argv[1])))
