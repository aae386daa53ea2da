"""Sealed columns (the rule lives in :mod:`terminal.core.sealing`, shared with the fleet,
which seals its online orders' personal data the same way)."""

from terminal.core.sealing import VERSION, Sealer, SealError

__all__ = ["VERSION", "SealError", "Sealer"]
