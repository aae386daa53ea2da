"""Every user-facing message is in the catalogues, translated to Indonesian, and compiled."""

import importlib.util
from pathlib import Path

from terminal.i18n import translator

ROOT = Path(__file__).resolve().parent.parent


def test_catalogues_are_complete_and_compiled(capsys):
    status = _tool().main(check=True)
    assert status == 0, capsys.readouterr().err


def test_indonesian_catalogue_is_used():
    id_ = translator("id")
    assert id_.gettext("PAY CASH") == "BAYAR TUNAI"
    assert id_.ngettext("{n} item", "{n} items", 3) == "{n} barang"
    assert translator("en").gettext("PAY CASH") == "PAY CASH"


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_a_new_babel_release_does_not_make_the_catalogues_stale(tmp_path):
    """The check compares messages and translations, not the generator's header."""
    tool = _tool()
    expected = tool.load("id", tool.extract())
    po = tool.po_path("id").read_text(encoding="utf-8")
    newer = tmp_path / "pos.po"
    newer.write_text(
        po.replace("Generated-By: Babel", "Generated-By: Babel 99.1.0 was"), encoding="utf-8"
    )
    assert "Babel 99.1.0" in newer.read_text(encoding="utf-8")
    assert not tool.stale(newer, expected, compiled=False)
    expected.header_comment = "# made by a future generator"
    mo = tmp_path / "pos.mo"
    mo.write_bytes(tool.mo_bytes(expected))
    assert not tool.stale(mo, tool.load("id", tool.extract()), compiled=True)


def test_a_changed_or_missing_translation_is_stale(tmp_path):
    tool = _tool()
    expected = tool.load("id", tool.extract())
    po = tool.po_path("id").read_text(encoding="utf-8")
    changed = tmp_path / "pos.po"
    changed.write_text(po.replace('msgstr "BAYAR TUNAI"', 'msgstr "BAYAR"'), encoding="utf-8")
    assert tool.stale(changed, expected, compiled=False)
    assert tool.stale(tmp_path / "absent.po", expected, compiled=False)
    expected["PAY CASH"].string = "BAYAR"
    mo = tmp_path / "pos.mo"
    mo.write_bytes(tool.mo_bytes(expected))
    assert tool.stale(mo, tool.load("id", tool.extract()), compiled=True)
