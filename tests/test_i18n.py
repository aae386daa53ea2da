"""Every user-facing message is in the catalogues, translated to Indonesian, and compiled."""

import importlib.util
from pathlib import Path

from terminal.i18n import translator

ROOT = Path(__file__).resolve().parent.parent


def test_catalogues_are_complete_and_compiled(capsys):
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    status = tool.main(check=True)
    assert status == 0, capsys.readouterr().err


def test_indonesian_catalogue_is_used():
    id_ = translator("id")
    assert id_.gettext("PAY CASH") == "BAYAR TUNAI"
    assert id_.ngettext("{n} line", "{n} lines", 3) == "{n} baris"
    assert translator("en").gettext("PAY CASH") == "PAY CASH"
