"""The screens' font, by the UI language.

Kivy has no font fallback: a character its font lacks is drawn as a box. Kivy's Roboto
has Latin and Cyrillic (Ө and Ү too) but neither the tögrög sign ₮ that MNT amounts show
nor any Chinese. For Mongolian and Chinese the default font name (``Roboto``, which every
label uses unless it names another) is registered to WenQuanYi Micro Hei, bundled beside
this module (Apache-2.0, ``fonts/LICENSE-WenQuanYi.txt``): Latin, Cyrillic, ₮ and CJK in
one file. English and Indonesian keep Roboto, so their screens look as they always did.

A label resolves its font when it renders: a switch shows on labels made or redrawn after
it (``PosRoot.set_language`` makes the screens anew).
"""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import DEFAULT_FONT, LabelBase

UI_FONT = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"
# languages whose text or currency sign Roboto lacks
NEEDS_UI_FONT = frozenset({"mn", "zh"})
MONO_FONT = "RobotoMono-Regular"  # Kivy's; has Cyrillic, no CJK
ROBOTO_MONO_ENDS = 0x0530  # Roboto Mono has Latin, Greek and Cyrillic, up to here
_roboto: tuple[str, ...] | None = None  # Kivy's own registration, to go back to


def use_font_for(locale: str) -> None:
    """Make the default font the one ``locale``'s text needs."""
    global _roboto
    if _roboto is None:
        _roboto = LabelBase._fonts[DEFAULT_FONT]
    if locale in NEEDS_UI_FONT:
        LabelBase.register(DEFAULT_FONT, str(UI_FONT))
    else:
        LabelBase.register(DEFAULT_FONT, *_roboto)


def mono_font(locale: str, text: str) -> str:
    """The fixed-width font for reports: Kivy's Roboto Mono (Latin, Cyrillic), or in
    Mongolian and Chinese, for a text with what it lacks (₮, Chinese), the UI font: no
    monospaced font with those is bundled, so such columns are approximate."""
    if locale in NEEDS_UI_FONT and any(ord(ch) >= ROBOTO_MONO_ENDS for ch in text):
        return str(UI_FONT)
    return MONO_FONT
