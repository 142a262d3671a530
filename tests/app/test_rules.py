"""Loading rules/: the shipped rules load; a broken copy is refused naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigError
from app.rules import load_rules
from tests.support import DEFAULT_KINDS as KINDS
from tests.support import RULES


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path.name}; update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refusal(directory: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_rules(directory)
    return str(caught.value)


def test_the_shipped_rules_load() -> None:
    rules = load_rules(RULES)
    assert tuple(kind.name for kind in rules.catalogue.kinds) == KINDS
    assert rules.kind("transfer_out").requires == "authorized"
    assert rules.kind("holder_change").postal_only is True
    assert rules.kind("inquiry").requires == "authenticated"
    assert rules.policy.action_for("from-mailbox", "fail") == "reject"
    assert rules.policy.action_for("customer-match", "fail") == "reject"
    assert rules.policy.unrecognised_requires == "authenticated"
    assert rules.policy.shortfall == "review"
    assert rules.version.startswith("sha256:")


def test_phrases_are_stored_folded() -> None:
    phrases = load_rules(RULES).kind("transfer_out").phrases
    assert all(phrase == phrase.lower() for phrase in phrases)
    assert "kod authinfo" in phrases


def test_a_check_error_is_never_ignored() -> None:
    policy = load_rules(RULES).policy
    assert policy.action_for("some-check", "error") == "review"
    assert policy.action_for("some-check", "pass") == "ignore"


def test_a_copy_loads_with_the_same_version(repo_rules: Path) -> None:
    assert load_rules(repo_rules).version == load_rules(RULES).version


def test_the_version_changes_when_a_file_changes(repo_rules: Path) -> None:
    before = load_rules(repo_rules).version
    edit(repo_rules / "policy.toml", 'shortfall = "review"', 'shortfall = "reject"')
    after = load_rules(repo_rules).version
    assert after != before
    edit(repo_rules / "instructions.toml", '"pytanie", ', '"pytanie", "pytam", ')
    assert load_rules(repo_rules).version not in (before, after)


def test_an_unknown_key_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, 'title = "Question about a service"', 'title = "Q"\ncolour = "red"')
    message = refusal(repo_rules)
    assert message.startswith(f"{path}: [kinds.inquiry] unknown key 'colour'")


def test_an_unknown_top_level_table_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    path.write_text(path.read_text() + "\n[thresholds]\nspam = 5\n")
    assert refusal(repo_rules).startswith(f"{path}: unknown key 'thresholds'")


def test_a_duplicated_kind_is_refused_naming_the_file(repo_rules: Path) -> None:
    # TOML itself forbids defining a table twice; the loader must say where.
    path = repo_rules / "instructions.toml"
    path.write_text(
        path.read_text() + '\n[kinds.inquiry]\ntitle = "Again"\nphrases = ["x"]\n'
        'requires = "none"\n'
    )
    message = refusal(repo_rules)
    assert message.startswith(f"{path}: ")
    assert "inquiry" in message
    assert "line" in message


def test_a_regex_that_does_not_compile_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, "server_id_pattern = '", "server_id_pattern = '(unclosed")
    message = refusal(repo_rules)
    assert message.startswith(f"{path}: [services.server_id_pattern]: invalid regular expression")


def test_a_login_pattern_without_a_group_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, "\\s*([a-z0-9][a-z0-9._-]{1,63})'", "\\s*[a-z0-9][a-z0-9._-]{1,63}'")
    message = refusal(repo_rules)
    assert message == f"{path}: [services.login_pattern]: needs a capturing group for the value"


def test_an_unknown_assurance_level_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, 'requires = "authorized"\npostal_only', 'requires = "notarised"\npostal_only')
    message = refusal(repo_rules)
    assert message == (
        f"{path}: [kinds.holder_change] requires: 'notarised' is not one of "
        "none, asserted, authenticated, authorized"
    )


def test_an_unknown_action_in_the_policy_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, '"customer-match.none" = "review"', '"customer-match.none" = "escalate"')
    message = refusal(repo_rules)
    assert message == (
        f"{path}: [findings] \"customer-match.none\": 'escalate' is not one of "
        "reject, review, ignore"
    )


def test_a_finding_key_must_name_check_and_result(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, '"from-mailbox.fail"', '"from-mailbox"')
    assert refusal(repo_rules).startswith(f'{path}: [findings] "from-mailbox": write it as')


def test_an_invalid_shortfall_is_refused(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, 'shortfall = "review"', 'shortfall = "accept"')
    assert refusal(repo_rules) == f"{path}: [decision] shortfall: review or reject"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'phrases = ["pytanie",',
            'phrases = ["", "pytanie",',
            "[kinds.inquiry] phrases: a non-empty list of strings is needed",
        ),
        (
            'title = "Question about a service"',
            "title = 7",
            "[kinds.inquiry] title: a non-empty string is needed",
        ),
        ("postal_only = true", 'postal_only = "yes"', "[kinds.holder_change] postal_only:"),
        ("[kinds.inquiry]", "[kinds.Inquiry]", "[kinds.Inquiry]: a kind name is lower-case"),
    ],
    ids=["empty phrase", "title not text", "postal_only not bool", "kind name"],
)
def test_invalid_kind_fields_are_refused(
    repo_rules: Path, old: str, new: str, expected: str
) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, old, new)
    assert refusal(repo_rules).startswith(f"{path}: {expected}")


def test_a_missing_file_is_named(repo_rules: Path) -> None:
    (repo_rules / "policy.toml").unlink()
    message = refusal(repo_rules)
    assert message.startswith(f"{repo_rules / 'policy.toml'}: cannot be read")


def test_a_directory_that_is_not_there_names_the_setting(tmp_path: Path) -> None:
    message = refusal(tmp_path / "nowhere")
    assert message.startswith("INTAKEGUARD_RULES_DIR: ")
    assert "nowhere" in message


@pytest.mark.parametrize("nested", ["(a+)+", "(a*)*", "(a|ab)*", "(?:x\\\\d+)+"])
def test_a_regex_that_can_backtrack_catastrophically_is_refused(
    repo_rules: Path, nested: str
) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, "server_id_pattern = '", f"server_id_pattern = '{nested}")
    message = refusal(repo_rules)
    assert message.startswith(f"{path}: [services.server_id_pattern]: ")
    assert "backtrack catastrophically" in message
    assert "(line " in message


def test_an_unknown_key_names_its_line(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    edit(path, 'title = "Question about a service"', 'title = "Q"\ncolour = "red"')
    line = path.read_text(encoding="utf-8").splitlines().index('colour = "red"') + 1
    assert refusal(repo_rules).endswith(f"(line {line})")
