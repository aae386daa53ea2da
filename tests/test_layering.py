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


@pytest.mark.parametrize("package", sorted(RULES))
def test_imports_follow_the_dependency_direction(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module in imports_of(path)
        if any(_matches(module, p) for p in RULES[package])
        and not any(_matches(module, a) for a in ALLOWED.get(package, ()))
    ]
    assert wrong == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    """The rule above must be able to fail: an import of Kivy is found where it is made."""
    sample = tmp_path / "rule.py"
    sample.write_text("def f():\n    from kivy.app import App\n    return App\n")
    assert imports_of(sample) == [(2, "kivy.app")]
