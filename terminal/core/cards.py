"""Card data rules: what of a card may be kept (PCI DSS 3.3/3.4)."""

from __future__ import annotations

import re

from terminal.core.errors import N_, PosError

_MASKED = re.compile(r"^[0-9]{0,6}[*Xx#]{3,}[0-9]{0,4}$")


class CardDataError(PosError):
    pass


def check_masked_pan(pan: str) -> str:
    """Accept a masked PAN (at most the first 6 and last 4 digits shown), refuse a full one."""
    compact = pan.replace(" ", "").replace("-", "")
    if not _MASKED.match(compact) or sum(c.isdigit() for c in compact) > 10:
        raise CardDataError(N_("Refused to store card data that is not masked"))
    return compact
