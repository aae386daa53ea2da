"""The terminal's fleet agent: a process of its own (``pos-terminal agent``) that sends
the journal to the fleet over MQTT and reports the terminal's presence and health."""
