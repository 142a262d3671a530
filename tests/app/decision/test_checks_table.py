"""README's table of checks names every check the pipelines declare, and no other."""

from __future__ import annotations

import re
from pathlib import Path

# Imports every module that declares a check run outside the mail pipeline (the
# extraction's and the store-side checks), as start-up does before reading the policy.
import app.decision.rules  # noqa: F401
from mailhook.checks import PIPELINE, declared

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_checks() -> list[str]:
    """The check names in the first column of README's "The checks" table, in order."""
    section = README.read_text().split("\n## The checks\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([a-z0-9-]+)`", row.split("|")[1])]


def test_the_readme_lists_every_declared_check_once() -> None:
    listed = readme_checks()
    assert len(listed) == len(set(listed)), "a check is listed twice"
    assert set(listed) == set(declared())


def test_the_readme_lists_the_mail_pipeline_in_the_order_it_runs() -> None:
    listed = readme_checks()
    assert [name for name in listed if name in PIPELINE] == list(PIPELINE)
