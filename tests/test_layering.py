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
    # the terminal's agent: a process of its own beside the app, no screens, no devices
    "terminal/fleet": ("terminal.ui", "kivy", "hal", "fleet"),
    # the fleet side shares the shop rules (core) and the journal's format, nothing else
    # of the terminal's; it never drives a device
    "fleet": ("terminal", "hal", "kivy"),
    # technicians' tooling: no screens, no devices, no terminal internals
    "provisioning": ("terminal.ui", "terminal.services", "hal", "kivy"),
}
ALLOWED = {
    "terminal/core": ("terminal.core",),
    # the console speaks through the terminal's own gettext catalogues (terminal.i18n
    # only loads them)
    "fleet": ("terminal.core", "terminal.store.journal_format", "terminal.i18n"),
}
# Whole files allowed past their package's rule, each with why.
EXEMPT = {
    # `pos-fleet demo` simulates terminals with the terminal's own sale, refund, shift and
    # Z code, so the demo's journals are real ones; only the demo command imports it (late),
    # so `pos-fleet serve` and the console never load the terminal's code
    "fleet/demo.py",
    # `pos-fleet orders seed` stocks the online shop's demo with the terminal's demo
    # catalogue; only that command imports it (late)
    "fleet/orders/demo.py",
    # the terminal's side of provisioning runs on the terminal (its first boot, a reset):
    # it opens the terminal's key store and prints the status ticket on its printer
    # through the terminal's own services
    "provisioning/firstboot.py",
    "provisioning/reset.py",
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
        if not (path.is_relative_to(ROOT) and str(path.relative_to(ROOT)) in EXEMPT)
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


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, at any depth of its code (a late import
    inside a function is still an import)."""
    files = {}
    for package in ("terminal", "hal"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    graph = {}
    for name, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = (found & set(files)) - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                other = stack.pop()
                group.add(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_circles():
    graph = import_graph()
    assert len(graph) > 100 and graph["terminal.services.bootstrap"]
    assert circles(graph) == []


def test_the_circle_check_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert circles({"a": {"b"}, "b": set()}) == []
