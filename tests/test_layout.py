"""README's Layout section against the tree: it names every package, and what it names exists.

A newcomer finds a check, the policy, a door or a record from that section; a package
added without a line there, or a module renamed without its line, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _layout() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def _listed_packages() -> set[str]:
    """``top/sub`` for every ``  sub/`` line under a ``top/`` line."""
    listed: set[str] = set()
    top = ""
    for line in _layout():
        first = line.split()[0] if line.strip() else ""
        if not line.startswith(" ") and first.endswith("/"):
            top = first.rstrip("/")
        elif line.startswith("  ") and not line.startswith("   ") and first.endswith("/"):
            listed.add(f"{top}/{first.rstrip('/')}")
    return listed


def _packages(top: str) -> set[str]:
    return {
        f"{top}/{path.parent.name}"
        for path in (ROOT / top).glob("*/__init__.py")
        if not path.parent.name.startswith("_")
    }


def test_every_package_of_app_and_mailhook_has_a_line() -> None:
    listed = _listed_packages()
    missing = (_packages("app") | _packages("mailhook")) - listed
    assert not missing, f"README Layout does not list {sorted(missing)}"


def test_every_module_the_layout_names_exists() -> None:
    """Each ``name.py`` on a line exists under that line's top-level directory."""
    top = ""
    missing = []
    for line in _layout():
        first = line.split()[0] if line.strip() else ""
        if not line.startswith(" ") and first.endswith("/"):
            top = first.rstrip("/")
        if not top or top in ("fixtures", "tests", "rules", "docs"):
            continue
        for name in re.findall(r"\b([a-z_0-9]+\.py)\b", line):
            if not list((ROOT / top).rglob(name)):
                missing.append(f"{top}/…/{name}")
    assert not missing, f"README Layout names modules that do not exist: {missing}"
