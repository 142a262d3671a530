"""The operator's patterns run on RE2: linear in the text, whatever the pattern says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.decision.regex_safety import (
    MAX_PROGRAM_SIZE,
    LinearPattern,
    UnsafePattern,
    compile_pattern,
)
from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from tests.support import RULES, make_message

TEXT = 10_000

# Patterns a backtracking engine runs in exponential or high polynomial time on the text
# beside each (most of them refused before RE2 by a scan of nested repetition; the first
# was not, and one 800-character line then took 50 s), and whether RE2 finds a match.
PATHOLOGICAL = [
    pytest.param(r"\w*\w*\w*\w*x", "a" * TEXT, False, id="adjacent repetitions"),
    pytest.param(r"(a+)+$", "a" * (TEXT - 1) + "b", False, id="nested repetition"),
    pytest.param(r"(a|aa)*b", "a" * TEXT, False, id="overlapping alternation"),
    pytest.param(r"(.*,){12}", ("a," * 11 + "a" * TEXT)[:TEXT], False, id="counted group"),
    pytest.param(r"(\w+\s?)*$", "ab " * (TEXT // 3) + "!", True, id="words and spaces"),
]


def is_re2(pattern: object) -> bool:
    return isinstance(pattern, LinearPattern) and type(pattern.compiled).__module__ == "re2"


@pytest.mark.parametrize(("source", "text", "matches"), PATHOLOGICAL)
def test_a_pathological_pattern_runs_in_linear_time(source: str, text: str, matches: bool) -> None:
    # The work is not timed but bounded: RE2 never backtracks, and runs in at most
    # (text length) x (program size) steps; the program size is capped at load.
    compiled = compile_pattern(source)
    assert is_re2(compiled)
    assert compiled.program_size <= MAX_PROGRAM_SIZE
    assert len(text) * compiled.program_size <= TEXT * MAX_PROGRAM_SIZE
    assert (compiled.search(text) is not None) is matches


def test_a_rules_file_cannot_make_one_line_cost_more_than_linear_time(
    repo_rules: Path,
) -> None:
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    shipped = re.search(r"^server_id_pattern = .*$", text, re.MULTILINE)
    assert shipped is not None
    path.write_text(text.replace(shipped.group(0), r"server_id_pattern = '\w*\w*\w*\w*x'"))
    catalogue = load_rules(repo_rules).catalogue
    assert is_re2(catalogue.server_id_pattern)
    raw = make_message(subject="Pytanie", body="a" * 800 + "\n" + "b" * 999 + "\n")
    found = extract(parse_message(raw, Envelope(), Channel.API), catalogue)
    assert found.services == ()


def test_the_shipped_patterns_run_on_re2() -> None:
    catalogue = load_rules(RULES).catalogue
    patterns = [catalogue.server_id_pattern, catalogue.login_pattern, catalogue.code_pattern]
    assert all(is_re2(pattern) for pattern in patterns)


@pytest.mark.parametrize(
    ("source", "construct"),
    [
        (r"(?<=kod)\d+", "a lookbehind ('(?<=')"),
        (r"(?<!\d)\d{8}", "a negative lookbehind ('(?<!')"),
        (r"\d{8}(?=\s)", "a lookahead ('(?=')"),
        (r"\d{8}(?![\d-])", "a negative lookahead ('(?!')"),
        (r"(a)\1", "a backreference ('\\\\1')"),
        (r"(?P<w>a)(?P=w)", "a backreference by name ('(?P=')"),
        (r"\d++", "a possessive quantifier ('++')"),
        (r"\d*+x", "a possessive quantifier ('*+')"),
        (r"(?>a+)b", "an atomic group ('(?>')"),
        (r"(?x) a b", "verbose mode (?x) ('(?x')"),
        (r"(?#note)a", "a comment group ('(?#')"),
    ],
)
def test_a_construct_re2_lacks_is_refused_by_name(source: str, construct: str) -> None:
    with pytest.raises(UnsafePattern) as caught:
        compile_pattern(source)
    assert str(caught.value) == (
        f"{construct} is not supported by the linear-time engine (RE2); "
        "rewrite the pattern without it"
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (r"a\Z", "\\Z is written \\z for the linear-time engine (RE2)"),
        (
            r"a{,3}",
            "'{,3}' is literal text to the linear-time engine (RE2); write the count as {0,n}",
        ),
        (r"(a", "invalid regular expression (missing ): (a)"),
        (
            r"\pL{0,3}",
            f"it compiles to 3595 instructions, more than the {MAX_PROGRAM_SIZE} that bound the "
            "work per character; narrow its character classes (\\pL, \\S) or its counted "
            "repetitions ({1,63})",
        ),
    ],
)
def test_other_refusals_say_what_to_write(source: str, reason: str) -> None:
    with pytest.raises(UnsafePattern) as caught:
        compile_pattern(source)
    assert str(caught.value) == reason


def test_ignore_case_is_an_engine_option() -> None:
    pattern = compile_pattern(r"\bsrv-?\d{3}\b", ignore_case=True)
    assert [m.group(0) for m in pattern.finditer("SRV-123 srv456 xsrv789")] == [
        "SRV-123",
        "srv456",
    ]


def test_text_with_lone_surrogates_is_scanned_at_the_same_places() -> None:
    # Undecodable bytes kept with "surrogateescape" have no UTF-8 form, which RE2 reads.
    pattern = compile_pattern(r"\bsrv\d{4}\b")
    text = "x\udcff srv1234 \udcfe"
    assert [m.span() for m in pattern.finditer(text)] == [(3, 10)]  # type: ignore[attr-defined]
    assert pattern.search(text) is not None
