"""The dependency direction of DESIGN.md, checked on the imports the code really has.

``ui -> services -> core``, ``services -> store``, ``services -> hal``. ``terminal/core``
depends on nothing of ours and on no UI, database or hardware library; ``hal`` never
imports ``terminal``; the store and the services never import the UI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

OUTSIDE_LIBRARIES = (
    "kivy",
    "peewee",
    "playhouse",
    "sqlite3",
    "sqlcipher3",
    "serial",
    "gpiozero",
    "escpos",
    "paho",
    "evdev",
    "usb",
    "PIL",
)
RULES = {
    # package: module prefixes it must not import
    "terminal/core": ("terminal", "hal", *OUTSIDE_LIBRARIES),
    "hal": ("terminal",),
    "terminal/store": ("terminal.services", "terminal.ui", "terminal.fleet", "hal", "kivy"),
    "terminal/services": ("terminal.ui", "kivy"),
    # the screens go through the services, never to the database or a device directly
    "terminal/ui": ("terminal.store", "hal", "peewee", "sqlcipher3"),
}
ALLOWED = {
    "terminal/core": ("terminal.core",),
    # the store keeps the card terminal's payment records (hal's PaymentRecords protocol),
    # so it reads hal's outcome types; hal knows nothing of the store
    "terminal/store": ("hal.card.payments", "hal.card.zvt.client"),
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(package: str, files: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{line}: {module}"
        for path in files
        for line, module in imports_of(path)
        if any(_matches(module, p) for p in RULES[package])
        and not any(_matches(module, a) for a in ALLOWED.get(package, ()))
    ]


@pytest.mark.parametrize("package", sorted(RULES))
def test_imports_follow_the_dependency_direction(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    assert violations(package, files) == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    """The rule must be able to fail: an import inside a function is found, and a screen
    reaching for the store or a core module reaching for Kivy is named."""
    screen = tmp_path / "screen.py"
    screen.write_text("def f():\n    from terminal.store import passkeys\n    return passkeys\n")
    rule = tmp_path / "rule.py"
    rule.write_text("import json\nfrom kivy.app import App\nfrom terminal.core import money\n")
    assert violations("terminal/ui", [screen]) == ["screen.py:2: terminal.store"]
    assert violations("terminal/core", [rule]) == ["rule.py:2: kivy.app"]
