"""The rooms import one way: dashboard → layers → sim → twin (see shared/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED: dict[str, set[str]] = {
    "twin": set(),
    "sim": {"twin"},
    "layers": {"twin", "sim"},
    "dashboard": {"twin", "sim", "layers"},
}


def imported_rooms(path: Path) -> set[str]:
    """Top-level names of our rooms imported by one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in ALLOWED)
    # dynamic "module:function" strings (CLI tables) count as imports too
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.split(".")[0]
            if head in ALLOWED and ":" in node.value and " " not in node.value:
                found.add(head)
    return found


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_allowed_rooms(room: str) -> None:
    bad = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for other in imported_rooms(path) - ALLOWED[room] - {room}:
            bad.append(f"{path.relative_to(ROOT)} imports {other}")
    assert not bad, "import direction broken:\n" + "\n".join(bad)


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from dashboard.cli import main\nimport sim.flood\n", encoding="utf-8")
    assert imported_rooms(module) == {"dashboard", "sim"}
