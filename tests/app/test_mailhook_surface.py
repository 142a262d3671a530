"""``app`` uses the mail side only through the modules ``mailhook.__all__`` names."""

from __future__ import annotations

import ast
from pathlib import Path

import mailhook

APP = Path(__file__).resolve().parents[2] / "app"


def mailhook_imports() -> set[tuple[str, str]]:
    """(file, module) for every import of a mailhook module in app/."""
    found = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mailhook"):
                found.add((str(path.relative_to(APP)), node.module or ""))
            elif isinstance(node, ast.Import):
                found |= {
                    (str(path.relative_to(APP)), alias.name)
                    for alias in node.names
                    if alias.name.startswith("mailhook")
                }
    return found


def test_app_imports_only_the_public_modules_of_mailhook() -> None:
    public = {f"mailhook.{name}" for name in mailhook.__all__}
    outside = sorted((path, module) for path, module in mailhook_imports() if module not in public)
    assert outside == []


def test_every_public_module_exists() -> None:
    for name in mailhook.__all__:
        assert (APP.parent / "mailhook" / f"{name}.py").exists() or (
            APP.parent / "mailhook" / name / "__init__.py"
        ).exists()
