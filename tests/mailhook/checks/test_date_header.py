"""date-header: one readable Date, not far in the past or the future."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from mailhook.checks import PIPELINE, registered
from mailhook.checks.date_header import MAX_AGE, MAX_AHEAD, check_date_header
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import NOW, run

NAME = "date-header"


def dated(value: str) -> str:
    raw = f"From: jan@acme.pl\r\nDate: {value}\r\nSubject: x\r\n\r\nbody\r\n".encode()
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    return f"{finding.result}: {finding.reason}"


def test_is_registered_and_in_the_pipeline() -> None:
    assert registered()[NAME].run is check_date_header
    assert NAME in PIPELINE


def test_a_recent_date_passes() -> None:
    finding = run(NAME, "reply-to-twice")  # any fixture dated 10:00 on the day of NOW
    assert finding.result == "pass"
    assert finding.reason == "The message is dated 2026-11-28 10:00 UTC, a plausible sending time."


def test_a_date_a_month_ahead_fails() -> None:
    finding = run(NAME, "date-far-future")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message is dated 2026-12-28 10:00 UTC, 29 days in the future: the sender's date "
        "is made up or its clock is wrong."
    )


def test_a_date_months_ago_fails() -> None:
    finding = run(NAME, "date-far-past")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message is dated 2026-08-01 08:00 UTC, 119 days ago: longer than mail takes to "
        "arrive, so it may be an old message sent again."
    )


def test_a_missing_date_fails() -> None:
    finding = run(NAME, "date-missing")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message has no Date header; RFC 5322 requires one and every mail program writes it."
    )


def test_two_dates_fail() -> None:
    finding = run(NAME, "date-twice")
    assert finding.result == "fail"
    assert finding.reason == "The message has 2 Date headers; RFC 5322 allows one."


def test_an_unreadable_date_fails_quoting_it() -> None:
    finding = run(NAME, "date-unparseable")
    assert finding.result == "fail"
    assert finding.reason == 'The Date header "wczoraj w poludnie" is not a date (RFC 5322 §3.3).'


def test_the_thresholds_are_inclusive_of_a_wrong_time_zone_and_a_slow_queue() -> None:
    assert dated(format_datetime(NOW + MAX_AHEAD)).startswith("pass")
    assert dated(format_datetime(NOW + MAX_AHEAD + timedelta(hours=1))).startswith(
        "fail: The message is dated 2026-11-29 11:05 UTC, 25 hours in the future"
    )
    assert dated(format_datetime(NOW - MAX_AGE)).startswith("pass")
    assert dated(format_datetime(NOW - MAX_AGE - timedelta(days=1))).startswith(
        "fail: The message is dated 2026-11-20 10:05 UTC, 8 days ago"
    )


def test_minus_zero_zone_and_obsolete_forms_are_dates() -> None:
    # RFC 5322 §3.3: -0000 is UTC with the local zone unknown; §4.3 obsolete zone names.
    assert dated("Sat, 28 Nov 2026 10:00:00 -0000").startswith("pass")
    assert dated("28 Nov 2026 05:00:00 EST").startswith("pass")
    assert dated("Sat, 28 Nov 26 10:00:00 GMT").startswith("pass")


def test_impossible_dates_are_unreadable_not_crashes() -> None:
    for value in ("Sat, 31 Feb 2026 10:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -2359", "99 99 99"):
        assert dated(value).startswith("fail: The Date header"), value
