"""Which key runs which cashier action (the ``[keys]`` table of the configuration)."""

from __future__ import annotations

ENTER_KEYS = frozenset({"enter", "numpadenter"})
# keys that always type or confirm: mapping them to an action would swallow them
TYPING_KEYS = (
    ENTER_KEYS | {"backspace"} | {str(d) for d in range(10)} | {f"numpad{d}" for d in range(10)}
)


class KeyMap:
    def __init__(self, keys: dict[str, list[str]]) -> None:
        self._action: dict[str, str] = {}
        for action, names in keys.items():
            for name in names:
                if name in TYPING_KEYS:
                    raise ValueError(f"key {name!r} types or confirms; it cannot run {action}")
                if name in self._action:
                    raise ValueError(
                        f"key {name!r} is mapped to both {self._action[name]} and {action}"
                    )
                self._action[name] = action

    def action_for(self, key_name: str) -> str | None:
        return self._action.get(key_name)

    def keys_for(self, action: str) -> list[str]:
        return [name for name, act in self._action.items() if act == action]

    def label(self, action: str) -> str:
        """The first key of an action, as shown on its button (``F12``, ``Del``)."""
        names = self.keys_for(action)
        if not names:
            return ""
        return _DISPLAY.get(names[0], names[0].upper())


_DISPLAY = {
    "numpadmul": "*",
    "numpadadd": "+",
    "numpadsubstract": "-",
    "escape": "Esc",
    "delete": "Del",
    "insert": "Ins",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "backspace": "\u232b",
    "up": "\u2191",
    "down": "\u2193",
}
