"""The receiver's configuration from the settings, shared out over `serve --workers N`."""

from __future__ import annotations

import pytest

from app.server.listeners import smtp_config
from app.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(intake_recipients=["support@hosting.example"], **values)  # type: ignore[arg-type]


def test_the_smtp_limits_reach_the_receiver() -> None:
    config = smtp_config(
        settings(
            smtp_max_sessions_per_client=7,
            smtp_idle_timeout=12.5,
            smtp_session_timeout=90,
            smtp_data_timeout=4,
            smtp_data_min_rate=2000,
        )
    )
    assert config.max_sessions_per_client == 7
    assert (config.idle_timeout, config.session_timeout) == (12.5, 90)
    assert (config.data_timeout, config.data_min_rate) == (4, 2000)


@pytest.mark.parametrize(("workers", "share"), [(1, 20), (2, 10), (3, 7), (64, 1)])
def test_each_worker_allows_its_share_of_a_client_s_sessions_rounded_up(
    workers: int, share: int
) -> None:
    config = smtp_config(settings(smtp_max_sessions_per_client=20), workers)
    assert config.max_sessions_per_client == share
