"""Application layer: ties core, store and hal together for the UI (and later the fleet agent)."""
