"""Build hook: the wheel's default catalogue is ``rules/``, copied in at build time.

``rules/`` stays where operators read and edit it; a built package carries the same files
as ``app/default_rules/``, the catalogue used when INTAKEGUARD_RULES_DIR is not set
(app.settings.default_rules_dir). They are copied here, never kept by hand, and
tests/test_packaging.py fails if a wheel's copy and ``rules/`` differ. An editable install
copies nothing: run from the checkout, the default is the checkout's ``rules/`` itself.
Everything else about the project is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RULES = Path(__file__).resolve().parent / "rules"
# Where the catalogue lies inside the built package, next to app/__init__.py.
PACKAGED = ("app", "default_rules")


class BuildWithDefaultRules(build_py):
    """build_py, then ``rules/*.toml`` copied into the built ``app`` package."""

    def run(self) -> None:
        super().run()
        sources = sorted(RULES.glob("*.toml"))
        if not sources:
            # A wheel without its catalogue would install and then refuse to start.
            raise SystemExit(f"setup.py: no rules/*.toml under {RULES}; nothing to ship")
        target = Path(self.build_lib, *PACKAGED)
        self.mkpath(str(target))
        for source in sources:
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildWithDefaultRules})
