"""The fleet side: ingest server, admin CLI, Mosquitto configuration."""
