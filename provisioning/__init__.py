"""Technician tooling: the fleet PKI, enrollment, the SD-card bundle."""
