"""The README's key map is the key map: every action with exactly its default keys, and
every screenshot it shows exists."""

from __future__ import annotations

import re

from terminal.config import DEFAULT_KEYS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
# the README's words for actions and keys, as a cashier reads them
ACTIONS = {
    "pay cash": "pay_cash",
    "quantity": "quantity",
    "void line": "remove_line",
    "discount": "discount",
    "cancel sale": "cancel_sale",
    "refund": "refund",
    "no receipt": "no_receipt",
    "restock": "restock",
    "shift": "shift",
    "pay card": "pay_card",
    "customer": "customer",
    "search": "search",
    "sign out": "sign_out",
    "back / cancel": "back",
    "line up / down": "line_up+line_down",
    "resume printing": "resume_printing",
    "online orders": "online_orders",
}
KEYS = {
    "keypad +": ["numpadadd"],
    "keypad *": ["numpadmul"],
    "*": ["*"],
    "Delete": ["delete"],
    "Insert": ["insert"],
    "Home": ["home"],
    "Escape": ["escape"],
    "Up / Down": ["up", "down"],
}


def readme_key_map() -> dict[str, list[str]]:
    table = README.split("### Key map", 1)[1].split("\n\n", 3)[2]
    documented: dict[str, list[str]] = {}
    for row in table.splitlines()[2:]:
        action, keys, _where = (cell.strip() for cell in row.strip("|").split("|", 2))
        names = []
        for key in (k.strip() for k in keys.split(",")):
            names += KEYS.get(key, [key.lower()] if re.fullmatch(r"F\d+", key) else [key])
        documented[ACTIONS[action]] = names
    if "line_up+line_down" in documented:
        up, down = documented.pop("line_up+line_down")
        documented["line_up"], documented["line_down"] = [up], [down]
    return documented


def test_the_readme_lists_every_action_with_its_keys():
    assert readme_key_map() == DEFAULT_KEYS


def test_every_picture_in_the_readme_exists():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(pictures) >= 10
    assert [p for p in pictures if not (ROOT / p).is_file()] == []
