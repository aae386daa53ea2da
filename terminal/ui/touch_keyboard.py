"""The on-screen keyboard of a text field, for a terminal with a touch screen and no
keyboard: Kivy's own :class:`VKeyboard`, held in place inside the prompt (not docked to
the window, where it would cover the prompt's buttons), its keys sent to the prompt the
way a keyboard's are - characters as text, Backspace, Enter, Esc."""

from __future__ import annotations

from kivy.uix.vkeyboard import VKeyboard


class TouchKeyboard(VKeyboard):
    """``prompt``: what the keys go to (``on_text``, ``on_backspace``, ``on_enter_key``,
    ``cancel``)."""

    def __init__(self, prompt, **kwargs) -> None:
        kwargs.setdefault("layout", "qwerty")
        kwargs.setdefault("size_hint", (1, 1))
        kwargs.setdefault("margin_hint", [0.02, 0.01, 0.02, 0.01])  # room for the keys
        super().__init__(**kwargs)
        self.prompt = prompt
        # a keyboard in a prompt: it does not move, turn or grow under the fingers
        self.do_translation = self.do_rotation = self.do_scale = False
        # the prompt's layout sizes it: its keys are drawn again for the new size
        self.bind(size=lambda *_a: self.refresh(True))

    def on_textinput(self, text: str) -> None:
        self.prompt.on_text(text)

    def on_key_down(self, keycode, text, _modifiers) -> None:
        # keys without text: SDL windows get characters as text (on_textinput above)
        if text and keycode not in ("backspace", "enter", "escape"):
            self.prompt.on_text(text)
        elif keycode == "backspace":
            self.prompt.on_backspace()
        elif keycode == "enter":
            self.prompt.on_enter_key()
        elif keycode == "escape":
            self.prompt.cancel()

    def key_at(self, label: str) -> tuple[float, float]:
        """Where the key showing ``label`` is, in window coordinates (a finger's target,
        for the tests and the demo)."""
        layout = self.available_layouts[self.layout]
        geometry = self.layout_geometry
        rows = layout["rows"]
        mtop, _mright, mbottom, _mleft = self.margin_hint
        line_height = (1 - mtop - mbottom) / rows
        for line in range(1, rows + 1):
            keys = layout[f"{self.layout_mode}_{line}"]
            for (pos_hint, size_hint), key in zip(geometry[f"LINE_HINT_{line}"], keys, strict=True):
                if label in (key[0], key[2]):
                    x = (pos_hint[0] + size_hint[0] / 2) * self.width
                    y = (mbottom + (rows - line + 0.5) * line_height) * self.height
                    return self.parent.to_window(*self.to_parent(x, y))
        raise KeyError(label)
