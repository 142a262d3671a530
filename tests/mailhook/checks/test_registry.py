"""The check registry: every check declares its results, and no two share a name."""

from __future__ import annotations

import importlib

import pytest

from mailhook.checks import (
    PIPELINE,
    PIPELINE_RESULTS,
    Check,
    _registry,
    declare,
    declared,
    register,
    registered,
    run_pipeline,
)
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import context
from tests.support import make_message


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registries as they are, changed by the test only."""
    registered()  # the built-in checks are in before the copies are taken
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.setattr(_registry, "_DECLARED", dict(_registry._DECLARED))


def test_every_pipeline_check_declares_its_results_beside_its_name() -> None:
    pipeline = registered()
    assert set(pipeline) == set(PIPELINE)
    for check in pipeline.values():
        module = importlib.import_module(check.run.__module__)
        assert check.name == module.NAME
        assert check.results == tuple(dict.fromkeys((*module.RESULTS, *PIPELINE_RESULTS)))
        assert declared()[check.name].results == check.results


@pytest.mark.usefixtures("own_registry")
def test_a_name_is_refused_twice_whichever_way_it_was_declared() -> None:
    with pytest.raises(ValueError, match="a check named 'dmarc' is already registered"):
        declare("dmarc", "again", results=("pass",))
    declare("made-up", "declared elsewhere", results=("pass", "odd"))
    with pytest.raises(ValueError, match="a check named 'made-up' is already registered"):
        register("made-up", "again, in the pipeline", results=("pass",))(
            lambda message, context: Finding("made-up", "pass", "")
        )


@pytest.mark.usefixtures("own_registry")
@pytest.mark.parametrize(
    ("name", "results", "problem"),
    [
        ("no-results", (), "must declare its results, each once"),
        ("twice", ("pass", "pass"), "must declare its results, each once"),
        ("Upper", ("pass",), "is not kebab-case"),
        ("odd-result", ("pass", "Fail"), "declares a result 'Fail' not in kebab-case"),
    ],
)
def test_a_declaration_that_says_nothing_clear_is_refused(
    name: str, results: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        declare(name, "a check", results=results)


@pytest.mark.usefixtures("own_registry")
def test_an_undeclared_result_is_an_error_never_a_silent_ignore() -> None:
    real = _registry._REGISTRY["message-id"]
    _registry._REGISTRY["message-id"] = Check(
        name=real.name,
        description=real.description,
        results=real.results,
        run=lambda message, context: Finding("message-id", "maybe", "Not sure."),
    )
    message = parse_message(make_message(), Envelope(), Channel.API)
    found = {f.name: f for f in run_pipeline(message, context())}
    assert found["message-id"].result == "error"
    assert found["message-id"].reason == (
        "The message-id check gave the result 'maybe', which it does not declare "
        "(Not sure.); an agent should review the message."
    )
    assert found["from-mailbox"].result == "pass"
