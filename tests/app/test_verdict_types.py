"""One verdict type: the TypedDict the code passes around is the API's VerdictOut."""

from __future__ import annotations

from typing import get_args, get_type_hints

from app.api.schemas import VerdictOut
from app.verdict_types import ASSURANCE_LEVELS, DECISIONS, Assurance, Decision, Verdict


def test_the_verdict_type_has_the_fields_of_the_api_schema_in_order() -> None:
    assert list(get_type_hints(Verdict)) == list(VerdictOut.model_fields)


def test_the_schema_takes_its_decisions_and_assurances_from_the_literals() -> None:
    assert VerdictOut.model_fields["decision"].annotation == Decision
    assert VerdictOut.model_fields["assurance"].annotation == Assurance
    assert get_args(Decision) == DECISIONS
    assert ASSURANCE_LEVELS == ("none", "asserted", "authenticated", "authorized")
