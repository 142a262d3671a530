"""How the service feeds the header checks: the provider's domains and the clock."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from app.decision.service import DecisionService
from app.errors import ConfigError
from app.settings import ENV_PREFIX, load_settings
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import MAIL, NOW
from tests.support import SECRET_KEY, make_settings


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_provider_domains_are_a_comma_list_of_a_labels(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKEGUARD_PROVIDER_DOMAINS", "Hosting.Example, żółw.pl.")
    assert load_settings().provider_domains == ["hosting.example", "xn--w-uga1v8h.pl"]


def test_a_provider_domain_that_is_no_domain_stops_start_up(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKEGUARD_PROVIDER_DOMAINS", "hosting.example, localhost")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == "INTAKEGUARD_PROVIDER_DOMAINS: 'localhost' is not a domain name"


def test_the_service_takes_the_provider_domains_from_the_settings(database_url: str) -> None:
    settings = make_settings(database_url, provider_domains="hosting.example")
    service = DecisionService.from_settings(settings, SECRET_KEY.encode())
    try:
        assert service.provider_domains == ("hosting.example",)
    finally:
        service.sessions.kw["bind"].dispose()


def test_dates_are_judged_by_the_service_clock(
    service: DecisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (MAIL / "reply-to-same-organisation.eml").read_bytes()  # dated 2026-11-28 10:00
    message = parse_message(raw, Envelope(), Channel.API)

    def date_result() -> str:
        return next(c for c in service.explain(message)["checks"] if c["name"] == "date-header")[
            "result"
        ]

    monkeypatch.setattr(service, "clock", lambda: NOW)
    assert date_result() == "pass"
    monkeypatch.setattr(service, "clock", lambda: NOW + timedelta(days=30))
    assert date_result() == "fail"
