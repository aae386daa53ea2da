"""gettext for every user-facing string.

Catalogues: ``terminal/locale/<lang>/LC_MESSAGES/pos.po`` (compiled to ``pos.mo``).

``_`` translates with the current UI language; receipts get their own translator so a
receipt is in the store's language whoever is signed in.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "pos"

Gettext = Callable[[str], str]
_current: gettext.NullTranslations = gettext.NullTranslations()
_locale = "en"


def translator(locale: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale], fallback=True)


def set_locale(locale: str) -> None:
    global _current, _locale
    _current, _locale = translator(locale), locale


def current_locale() -> str:
    """The UI language ``_`` translates to now (a cashier's choice for their session)."""
    return _locale


def _(msgid: str) -> str:
    return _current.gettext(msgid)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)
