"""Loading rules/: the shipped rules load; a broken copy is refused naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.decision import rules_policy
from app.decision.policy import AT_LEAST_REVIEW, Policy
from app.decision.rules import load_rules
from app.decision.rules_policy import declared_checks
from app.errors import ConfigError
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
    assert rules.policy.unrecognised_requires == "review"
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


def test_a_catalogue_without_unexplained_reads_with_the_shipped_words(
    repo_rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A rules directory written before [unexplained]: the check still runs (fail closed).
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[unexplained]")], encoding="utf-8")
    shipped = load_rules(RULES).catalogue.forms
    with caplog.at_level("WARNING"):
        older = load_rules(repo_rules).catalogue.forms
    assert shipped is not None and older == shipped
    assert "has no [unexplained] table" in caplog.text


def test_the_version_changes_when_a_file_changes(repo_rules: Path) -> None:
    before = load_rules(repo_rules).version
    edit(repo_rules / "policy.toml", 'shortfall = "review"', 'shortfall = "reject"')
    after = load_rules(repo_rules).version
    assert after != before
    edit(repo_rules / "instructions.toml", '"pytanie", ', '"pytanie", "pytam", ')
    assert load_rules(repo_rules).version not in (before, after)


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` that contains ``text``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


# (file, text replaced, replacement, the reason the loader gives, text on the line named)
REFUSALS = [
    (
        "instructions.toml",
        'title = "Question about a service"',
        'title = "Q"\ncolour = "red"',
        "[kinds.inquiry] unknown key 'colour'; expected one of acts_on_service, "
        "gives_addresses, phrases, postal_only, question, requires, title, title_pl",
        'colour = "red"',
    ),
    (
        "instructions.toml",
        "[services]",
        "[servers]\nx = 1\n[services]",
        "unknown key 'servers'; expected one of kinds, requests, services, unexplained",
        "[servers]",
    ),
    (
        "policy.toml",
        "\n[decision]\n",
        "\n[decision]\nthreshold = 5\n",
        "[decision] unknown key 'threshold'; expected one of shortfall, unrecognised_requires",
        "threshold = 5",
    ),
    (
        "instructions.toml",
        'requires = "authorized"\npostal_only',
        'requires = "notarised"\npostal_only',
        "[kinds.holder_change] requires: 'notarised' is not one of "
        "none, asserted, authenticated, authorized",
        'requires = "notarised"',
    ),
    (
        "policy.toml",
        'unrecognised_requires = "review"',
        'unrecognised_requires = "authenticated"',
        "[decision] unrecognised_requires: 'authenticated' is not allowed; its only value is "
        '"review" (or leave the key out): a message whose request the catalogue does not '
        "recognise is never accepted",
        'unrecognised_requires = "authenticated"',
    ),
    (
        "policy.toml",
        '"customer-match.none" = "review"',
        '"customer-match.none" = "escalate"',
        "[findings] \"customer-match.none\": 'escalate' is not one of reject, review, ignore",
        '"customer-match.none" = "escalate"',
    ),
    (
        "policy.toml",
        '"from-mailbox.fail" = "reject"',
        '"from-mailbox" = "reject"',
        '[findings] "from-mailbox": write it as "check-name.result"',
        '"from-mailbox" = "reject"',
    ),
    (
        "policy.toml",
        'shortfall = "review"',
        'shortfall = "accept"',
        "[decision] shortfall: review or reject",
        'shortfall = "accept"',
    ),
    (
        "instructions.toml",
        "\\s*([a-z0-9][a-z0-9._-]{0,62}[a-z0-9])'",
        "\\s*[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]'",
        "[services.login_pattern]: needs a capturing group for the value",
        "login_pattern = ",
    ),
    (
        "instructions.toml",
        "server_id_pattern = '",
        "server_id_pattern = '(unclosed",
        "[services.server_id_pattern]: invalid regular expression "
        "(missing ): (unclosed\\b(?:srv|vps|ded|hosting)(?:[ _#.:/-]|nr){0,3}\\d{3,10}\\b)",
        "server_id_pattern = ",
    ),
    (
        "instructions.toml",
        "code_pattern = '(?i)",
        "code_pattern = '(?i)(?<!x)",
        "[services.code_pattern]: a negative lookbehind ('(?<!') is not supported by the "
        "linear-time engine (RE2); rewrite the pattern without it",
        "code_pattern = ",
    ),
    (
        "instructions.toml",
        'phrases = ["pytanie",',
        'phrases = ["", "pytanie",',
        "[kinds.inquiry] phrases: a non-empty list of strings is needed",
        'phrases = ["", "pytanie",',
    ),
    (
        "instructions.toml",
        'title = "Question about a service"',
        "title = 7",
        "[kinds.inquiry] title: a non-empty string is needed",
        "title = 7",
    ),
    (
        "instructions.toml",
        'title_pl = "Pytanie o usługę"',
        'title_pl = " "',
        "[kinds.inquiry] title_pl: a non-empty string is needed",
        'title_pl = " "',
    ),
    (
        "instructions.toml",
        "postal_only = true",
        'postal_only = "yes"',
        "[kinds.holder_change] postal_only: true or false",
        'postal_only = "yes"',
    ),
    (
        "instructions.toml",
        "[kinds.inquiry]",
        "[kinds.Inquiry]",
        "[kinds.Inquiry]: a kind name is lower-case snake_case",
        "[kinds.Inquiry]",
    ),
    (
        "instructions.toml",
        "[kinds.inquiry]",
        "[kinds]\ninquiry = 5\n[kinds.spare]",
        "[kinds.inquiry]: must be a table",
        "inquiry = 5",
    ),
    (
        "policy.toml",
        'unrecognised_requires = "review"',
        "unrecognised_requires = 3",
        "[decision] unrecognised_requires: 3 is not allowed; its only value is "
        '"review" (or leave the key out): a message whose request the catalogue does not '
        "recognise is never accepted",
        "unrecognised_requires = 3",
    ),
    (
        "policy.toml",
        '"dmarc.reject" = "reject"',
        '"dmarc.rejct" = "reject"',
        "[findings] \"dmarc.rejct\": dmarc has no result 'rejct'; its results are: pass, fail, "
        'quarantine, reject, permerror, temperror, none, error (did you mean "dmarc.reject"?)',
        '"dmarc.rejct" = "reject"',
    ),
    (
        "policy.toml",
        '"customer-match.none" = "review"',
        '"customer-match.nobody" = "review"',
        "[findings] \"customer-match.nobody\": customer-match has no result 'nobody'; its "
        'results are: pass, fail, ambiguous, none (did you mean "customer-match.none"?)',
        '"customer-match.nobody" = "review"',
    ),
    (
        "policy.toml",
        '"instruction-text.truncated" = "review"',
        '"instruction-text.truncated" = "ignore"',
        '[findings] "instruction-text.truncated": "ignore" is not allowed, as part of what a '
        "person reads in the message was not read, or disagrees; such a message is never "
        'accepted: write "review" or "reject"',
        '"instruction-text.truncated" = "ignore"',
    ),
    (
        "policy.toml",
        '"dmarc.reject" = "reject"',
        '"dmarc.reject" = "reject"\n"dmarc.error" = "ignore"',
        '[findings] "dmarc.error": "ignore" is not allowed, as the check could not complete, '
        'so it vouches for nothing; such a message is never accepted: write "review" or '
        '"reject"',
        '"dmarc.error" = "ignore"',
    ),
    (
        "instructions.toml",
        "[kinds.inquiry]",
        "[kinds.inquiry.extra]\nx = 1\n[kinds.inquiry]",
        "[kinds.inquiry] unknown key 'extra'; expected one of acts_on_service, "
        "gives_addresses, phrases, postal_only, question, requires, title, title_pl",
        "[kinds.inquiry.extra]",
    ),
    (
        "policy.toml",
        'findings = ["dmarc.fail"]',
        'findings = ["dmarc.reject"]',
        '[confirmation] findings: "dmarc.reject" is not allowed, only a finding that '
        "[findings] maps to review can be confirmed away",
        'findings = ["dmarc.reject"]',
    ),
    (
        "policy.toml",
        'findings = ["dmarc.fail"]',
        'findings = ["instruction-parts.unreadable"]',
        '[confirmation] findings: "instruction-parts.unreadable" is not allowed, as part of '
        "what a person reads in the message was not read, or disagrees, which no one's "
        "confirmation settles",
        'findings = ["instruction-parts.unreadable"]',
    ),
    (
        "policy.toml",
        'replaces = ["authenticated"]',
        'replaces = ["asserted"]',
        "[confirmation] replaces: a non-empty list of authenticated, authorized",
        'replaces = ["asserted"]',
    ),
    (
        "policy.toml",
        'senders = ["asserted"]',
        'senders = ["authenticated"]',
        "[confirmation] senders: a non-empty list of none, asserted",
        'senders = ["authenticated"]',
    ),
    (
        "policy.toml",
        'holder_change = "postal"',
        'holder_change = "e-mail"',
        '[confirmation] holder_change: \'e-mail\' is not allowed; only "postal", "confirm_both"',
        'holder_change = "e-mail"',
    ),
    (
        "policy.toml",
        "enabled = true",
        'enabled = "yes"',
        "[confirmation] enabled: true or false",
        'enabled = "yes"',
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "reason", "marker"),
    REFUSALS,
    ids=[
        "unknown key in a kind",
        "unknown top-level table",
        "unknown key in [decision]",
        "unknown assurance level",
        "unrecognised_requires other than review",
        "unknown action",
        "finding key without result",
        "invalid shortfall",
        "pattern without group",
        "regex that does not compile",
        "regex construct RE2 lacks",
        "empty phrase",
        "title not text",
        "polish title blank",
        "postal_only not bool",
        "kind name",
        "kind not a table",
        "unrecognised_requires not text",
        "unknown result, with a suggestion",
        "unknown result of an app-side check",
        "a result that is at least review mapped to ignore",
        "a check error mapped to ignore",
        "kind with a sub-table",
        "a rejecting finding cannot be confirmed away",
        "a not-understood finding cannot be confirmed away",
        "confirmation replacing a level mail from the panel address reaches",
        "confirmation from senders that authenticate",
        "holder change neither postal nor confirm_both",
        "enabled not bool",
    ],
)
def test_every_refusal_names_file_line_and_reason(
    repo_rules: Path, name: str, old: str, new: str, reason: str, marker: str
) -> None:
    path = repo_rules / name
    edit(path, old, new)
    assert refusal(repo_rules) == f"{path}: {reason} (line {line_of(path, marker)})"


def test_a_duplicated_kind_is_refused_in_the_loaders_own_form(repo_rules: Path) -> None:
    # TOML itself forbids defining a table twice; tomllib's complaint is translated.
    path = repo_rules / "instructions.toml"
    path.write_text(
        path.read_text() + '\n[kinds.inquiry]\ntitle = "Again"\nphrases = ["x"]\n'
        'requires = "none"\n'
    )
    lines = path.read_text().splitlines()
    line = len(lines) - lines[::-1].index("[kinds.inquiry]")
    assert refusal(repo_rules) == (
        f"{path}: [kinds.inquiry] is declared twice; write each table once (line {line})"
    )


def test_a_duplicated_key_is_refused_with_its_line(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, 'shortfall = "review"', 'shortfall = "review"\nshortfall = "reject"')
    line = line_of(path, 'shortfall = "reject"')
    assert refusal(repo_rules) == (
        f"{path}: a key is written twice in one table; write each key once (line {line})"
    )


def test_a_toml_syntax_error_is_refused_with_its_line(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, 'shortfall = "review"', "shortfall = review")
    line = line_of(path, "shortfall = review")
    assert refusal(repo_rules) == f"{path}: not valid TOML: invalid value (line {line})"


def test_a_file_that_is_not_utf8_is_refused_with_its_line(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    content = path.read_bytes()
    line = content[: content.index(b'shortfall = "review"')].count(b"\n") + 2
    path.write_bytes(content.replace(b'shortfall = "review"', b'shortfall = "review"\n# caf\xe9'))
    assert refusal(repo_rules) == f"{path}: not UTF-8 text (line {line})"


def test_a_missing_kinds_table_names_the_start_of_the_file(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[kinds.inquiry]")], encoding="utf-8")
    assert refusal(repo_rules) == (
        f"{path}: [kinds]: at least one instruction kind is needed (line 1)"
    )


def test_a_missing_file_is_named(repo_rules: Path) -> None:
    (repo_rules / "policy.toml").unlink()
    message = refusal(repo_rules)
    assert message.startswith(f"{repo_rules / 'policy.toml'}: cannot be read")


def test_a_directory_that_is_not_there_names_the_setting(tmp_path: Path) -> None:
    message = refusal(tmp_path / "nowhere")
    assert message.startswith("INTAKEGUARD_RULES_DIR: ")
    assert "nowhere" in message


def test_a_key_naming_no_check_is_refused_with_a_suggestion(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, '"dmarc.reject" = "reject"', '"dmrac.reject" = "reject"')
    checks = ", ".join(sorted(declared_checks()))
    assert refusal(repo_rules) == (
        f"{path}: [findings] \"dmrac.reject\": no check is named 'dmrac'; the checks are: "
        f'{checks} (did you mean "dmarc.reject"?) (line {line_of(path, "dmrac.reject")})'
    )


def test_every_shipped_key_names_a_declared_check_result() -> None:
    checks = declared_checks()
    for key in load_rules(RULES).policy.findings:
        name, _, result = key.partition(".")
        assert result in checks[name].results, key


def test_the_app_side_checks_are_declared_with_their_results() -> None:
    checks = declared_checks()
    assert checks["customer-match"].results == ("pass", "fail", "ambiguous", "none")
    assert checks["replay"].results == ("pass", "fail", "duplicate", "retransmission", "none")
    assert checks["one-time-code"].results == ("pass", "fail", "locked", "unchecked", "error")
    assert checks["customer-identifier"].results == ("pass", "mismatch", "none", "unchecked")
    assert checks["instruction-kind"].results == ("pass", "none", "partial")
    assert checks["named-addresses"].results == ("pass", "other")
    assert checks["service-scope"].results == ("pass", "none", "foreign", "mixed", "lookalike")
    assert "truncated" in checks["instruction-text"].results
    # The pipeline's own results are every pipeline check's.
    assert checks["spf"].results[-2:] == ("temperror", "error")


# Floors whose check or result is declared by the branches that build them (issue 13).
DECLARED_ELSEWHERE = {
    "header-count.fail",
    "auto-submitted.auto",
    "signed-headers.uncovered",
    "instruction-parts.disagree",
    "instruction-parts.unreadable",
    "instruction-parts.hidden",
    "instruction-parts.attachment",
    "instruction-text.points-elsewhere",
    "instruction-text.history-asks",
}


def test_the_floors_name_declared_results() -> None:
    checks = declared_checks()
    for key in AT_LEAST_REVIEW:
        name, _, result = key.partition(".")
        declared = name in checks and result in checks[name].results
        assert declared or key in DECLARED_ELSEWHERE, key


@pytest.mark.parametrize("key", sorted(AT_LEAST_REVIEW))
def test_what_was_not_understood_is_at_least_review_whatever_the_file_says(key: str) -> None:
    name, _, result = key.partition(".")
    silent = Policy(findings={}, shortfall="review")
    assert silent.action_for(name, result) == "review"
    assert load_rules(RULES).policy.action_for(name, result) in ("review", "reject")
    # Stricter is allowed.
    assert Policy(findings={key: "reject"}, shortfall="review").action_for(name, result) == (
        "reject"
    )


def test_a_policy_without_unrecognised_requires_loads_as_review(repo_rules: Path) -> None:
    path = repo_rules / "policy.toml"
    edit(path, 'unrecognised_requires = "review"\n', "")
    assert load_rules(repo_rules).policy.unrecognised_requires == "review"


def test_an_empty_check_registry_stops_loading(
    repo_rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules_policy, "declared", dict)
    assert refusal(repo_rules) == (
        "no checks are declared, so rules/policy.toml cannot be validated"
    )


@pytest.mark.parametrize("key", ["markers", "verbs", "objects"])
def test_request_words_may_not_be_emptied(repo_rules: Path, key: str) -> None:
    """[requests] is what holds a second request beside a recognised one: an empty list
    would let it through, so the loader refuses it (fail closed)."""
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n{key} = [") + 1
    end = text.index("]\n", start) + 1
    path.write_text(text[:start] + f"{key} = []" + text[end:], encoding="utf-8")
    assert refusal(repo_rules) == (
        f"{path}: [requests] {key}: a non-empty list of strings is needed "
        f"(line {line_of(path, f'{key} = []')})"
    )
