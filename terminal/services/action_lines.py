"""One log line per cashier action, for technicians: what happened in words, then the
same fields every time, ``key=value``:

    sale T01-000042 committed, total 57328 | action=sale cashier=1 shift=3
        label=T01-000042 total=57328 paid=57300 rounding=-28 tenders=cash:57300

(on one line).
``total`` is always the goods' total and ``paid`` what the tenders took (after cash
rounding); amounts are in minor units. Fields are ids, labels, SKUs, amounts, reasons and
counts - never a PIN, a passkey, a key, a card number or a customer's personal data. The
journal stays the record; these lines say what the terminal was doing.
"""

from __future__ import annotations

import logging

log = logging.getLogger("terminal.actions")


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items()) or "-"
    text = str(value)
    return f'"{text}"' if not text or any(ch.isspace() for ch in text) else text


def log_action(message: str, action: str, **fields: object) -> None:
    """``message``: the event in words (the words tests and technicians look for);
    ``fields``: what identifies it (None values are left out)."""
    shown = " ".join(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
    log.info("%s | action=%s %s", message, action, shown)
