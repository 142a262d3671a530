"""Loading and validating ``rules/``: the instruction catalogue and the policy.

The loader refuses an invalid directory with the file, the line, the key and the reason,
so an operator's typo stops start-up instead of quietly changing decisions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from app.decision.policy import Policy
from app.decision.rules_catalogue import read_catalogue
from app.decision.rules_policy import declared_checks, read_policy
from app.decision.rules_source import Source
from app.errors import ConfigError
from mailhook.catalogue import Catalogue, InstructionKind

RULE_FILES = ("instructions.toml", "policy.toml")


@dataclass(frozen=True, slots=True)
class Rules:
    catalogue: Catalogue
    policy: Policy
    version: str

    def kind(self, name: str) -> InstructionKind:
        return next(kind for kind in self.catalogue.kinds if kind.name == name)


def load_rules(directory: Path) -> Rules:
    """Read and validate ``directory``; ConfigError naming file, line, key and reason if bad."""
    if not directory.is_dir():
        raise ConfigError(
            f"INTAKEGUARD_RULES_DIR: {directory} is not a directory; point it at the rules "
            "directory (the one holding instructions.toml and policy.toml)"
        )
    digest = hashlib.sha256()
    sources: dict[str, Source] = {}
    for name in RULE_FILES:
        path = directory / name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        digest.update(name.encode() + b"\0" + content + b"\0")
        sources[name] = Source.parse(path, content)
    catalogue = read_catalogue(sources["instructions.toml"])
    policy = read_policy(sources["policy.toml"], declared_checks())
    return Rules(catalogue=catalogue, policy=policy, version="sha256:" + digest.hexdigest()[:16])
