"""Hardware abstraction: one small interface per device kind, real backends and simulators.

Never imports ``terminal``: the application depends on hal, not the other way round.
"""
