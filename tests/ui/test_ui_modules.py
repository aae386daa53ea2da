"""The shape of terminal/ui, read from its source (no Kivy): one module per screen with its
.kv beside it, the prompts and the shared widgets below the screens, every import at the
top of its module, and no import circle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

UI = ROOT / "terminal" / "ui"
SCREENS = ["signin_screen", "sale_screen", "payment_screen", "search_screen", "refund_screen"]
# what a screen may be built from; none of these imports a screen
BELOW_THE_SCREENS = [
    "widgets",
    "panels",
    "touch_keyboard",
    "asker",
    "shift_menu",
    "customer_menu",
    "settings_menu",
    "typeface",
]


def modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in UI.glob("*.py")}


def ui_imports(tree: ast.Module) -> set[str]:
    """The terminal.ui modules that a module imports, at any depth of its code."""
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[2] for n in names if n.startswith("terminal.ui.")}
    return found & set(modules())


def test_every_import_is_at_the_top_of_its_module():
    """Two imports wait, and neither breaks a circle: Kivy's configuration reads, when
    imported, the environment that configure_kivy sets first; and a screenshot imports
    Kivy's window only when one is taken (importing it opens the window: the stopped
    screen must log its reason first)."""
    late = [
        (name, func.name, node.module if isinstance(node, ast.ImportFrom) else node.names[0].name)
        for name, tree in modules().items()
        for func in ast.walk(tree)
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(func)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert sorted(late) == [
        ("kivy_setup", "configure_kivy", "kivy.config"),
        ("screenshot", "save_screenshot", "kivy.core.window"),
    ]


def test_no_import_circle():
    graph = {name: ui_imports(tree) for name, tree in modules().items()}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [name for name in graph if name in reach(name)] == []


def test_the_prompts_widgets_and_flows_import_no_screen():
    graph = {name: ui_imports(tree) for name, tree in modules().items()}
    for name in BELOW_THE_SCREENS:
        assert graph[name] <= set(BELOW_THE_SCREENS), name


def test_each_screen_has_its_module_and_its_kv_with_its_rules_only():
    rule = re.compile(r"^<(\w+)(?:@\w+)?>:", re.MULTILINE)
    for name in SCREENS:
        module, kv = UI / f"{name}.py", UI / f"{name}.kv"
        assert kv.exists(), kv
        classes = {
            n.name
            for n in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
            if isinstance(n, ast.ClassDef)
        }
        assert set(rule.findall(kv.read_text(encoding="utf-8"))) <= classes, name
    assert sorted(Path(p).stem for p in UI.glob("*.kv")) == sorted([*SCREENS, "widgets"])
