"""Gettext catalogues: extract the messages, merge them into each language's .po, compile .mo.

    python scripts/i18n.py          extract + update + compile (what `make i18n` runs)
    python scripts/i18n.py --check  fail if any catalogue is stale or a translation is missing

Messages come from Python (``_``, ``N_``, ``ngettext``), the .kv files (``_("...")``) and the
console's Jinja2 templates (``_("...")``, ``ngettext(...)``; Jinja2's own Babel extractor).
"""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "terminal" / "locale"
LANGUAGES = ["en", "id", "mn", "zh"]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}
KV_MESSAGE = re.compile(r'_\(("(?:[^"\\]|\\.)*")\)')


def extract() -> Catalog:
    template = Catalog(project="pos-terminal", fuzzy=False)
    sources = sorted((ROOT / "terminal").rglob("*.py")) + sorted((ROOT / "hal").rglob("*.py"))
    sources += sorted((ROOT / "fleet" / "console").rglob("*.py"))  # the console's own words
    # the online orders' refusals: the fleet says them, a CS terminal shows them
    sources += sorted((ROOT / "fleet" / "orders").rglob("*.py"))
    sources += sorted((ROOT / "fleet" / "shipping").rglob("*.py"))  # and the airway bills'
    for path in sources:
        rel = path.relative_to(ROOT)
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS
        ):
            template.add(message, locations=[(str(rel), lineno)])
    for path in sorted((ROOT / "fleet" / "console" / "templates").glob("*.html")):
        rel = path.relative_to(ROOT)
        for lineno, message, _comments, _context in extract_from_file(
            "jinja2.ext:babel_extract", str(path), keywords=KEYWORDS
        ):
            template.add(message, locations=[(str(rel), lineno)])
    for path in sorted((ROOT / "terminal").rglob("*.kv")):
        rel = path.relative_to(ROOT)
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            for match in KV_MESSAGE.finditer(line):
                template.add(ast.literal_eval(match[1]), locations=[(str(rel), lineno)])
    return template


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "pos.po"


def load(lang: str, template: Catalog) -> Catalog:
    path = po_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    else:
        catalog = Catalog(locale=lang, project="pos-terminal", fuzzy=False)
    catalog.update(template, no_fuzzy_matching=True)
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        no_location=True,
        omit_header=False,
        sort_output=True,
        width=100,
        include_previous=False,
        ignore_obsolete=True,
    )
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def messages(catalog: Catalog, *, compiled: bool = False) -> dict[object, object]:
    """What a catalogue says: each message's translation and format flags, nothing of the
    header. The header carries the generator's name and version, which a new Babel
    release changes without any message changing: comparing it would fail a clean
    checkout. A compiled (.mo) catalogue keeps no flags, and a message shown as its own
    msgid may be in it or not: ``compiled`` compares what gettext would show."""

    def text(value: str | list | tuple | None) -> str | tuple[str, ...]:  # plurals: a sequence
        if value is None:  # a message new in the sources
            return ""
        return value if isinstance(value, str) else tuple(value)

    said = {}
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        shown = text(m.string) if any(text(m.string)) else text(m.id)
        if not compiled:
            said[text(m.id)] = (text(m.string), tuple(sorted(m.flags - {"fuzzy"})))
        elif shown != text(m.id):
            said[text(m.id)] = shown
    return said


def stale(path: Path, expected: Catalog, *, compiled: bool) -> bool:
    """Whether the committed file's messages differ from what the sources and .po give."""
    if not path.exists():
        return True
    with path.open("rb") as fh:
        try:
            found = read_mo(fh) if compiled else read_po(fh, locale=expected.locale)
        except Exception:  # an unreadable catalogue is a stale one
            return True
    return messages(found, compiled=compiled) != messages(expected, compiled=compiled)


def missing(catalog: Catalog) -> list[str]:
    """Messages without a translation (English needs none: the msgid is the text)."""
    if str(catalog.locale) == "en":
        return []
    return [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]


def main(check: bool) -> int:
    template = extract()
    problems = []
    for lang in LANGUAGES:
        catalog = load(lang, template)
        catalog.revision_date = catalog.creation_date = template.creation_date.replace(
            year=2026, month=1, day=1, hour=0, minute=0, second=0
        )
        po_file, mo_file = po_path(lang), po_path(lang).with_suffix(".mo")
        if check:
            if stale(po_file, catalog, compiled=False):
                problems.append(f"{po_file.relative_to(ROOT)} is stale: run `make i18n`")
            if stale(mo_file, catalog, compiled=True):
                problems.append(f"{mo_file.relative_to(ROOT)} is stale: run `make i18n`")
            problems += [f"{lang}: no translation for {m!r}" for m in missing(catalog)]
        else:
            po_file.parent.mkdir(parents=True, exist_ok=True)
            po_file.write_bytes(po_bytes(catalog))
            mo_file.write_bytes(mo_bytes(catalog))
            for message in missing(catalog):
                print(f"{lang}: untranslated: {message!r}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main("--check" in sys.argv))
