"""date-header: exactly one readable Date, not far from the time the message is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from mailhook.checks._headers import as_utf8, quoted, raw_fields
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "date-header"
RESULTS: tuple[str, ...] = ("pass", "fail")
# Mail servers stop retrying after five days (Postfix maximal_queue_lifetime, Exim's
# default retry rule); two more days allow for a slow relay chain and a sender's clock.
# Anything older was not sent just now: it is an old message, possibly sent again.
MAX_AGE = timedelta(days=7)
# A local time labelled as UTC is at most 14 hours off (UTC+14, Line Islands); a day
# leaves room for a drifting clock. Later than that, the date was made up.
MAX_AHEAD = timedelta(days=1)


@register(NAME, "one readable Date header, not far in the past or the future", results=RESULTS)
def check_date_header(message: InboundMessage, context: CheckContext) -> Finding:
    fields = raw_fields(message, "Date")
    # RFC 5322 §3.6: the origination date is required, exactly once.
    if not fields:
        return _fail(
            "The message has no Date header; RFC 5322 requires one and every mail program "
            "writes it."
        )
    if len(fields) > 1:
        return _fail(f"The message has {len(fields)} Date headers; RFC 5322 allows one.")
    written = as_utf8(fields[0]).strip()
    sent = _parsed(written)
    if sent is None:
        return _fail(f'The Date header "{quoted(written)}" is not a date (RFC 5322 §3.3).')
    shown = sent.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if sent - context.now > MAX_AHEAD:
        return _fail(
            f"The message is dated {shown}, {_span(sent - context.now)} in the future: "
            "the sender's date is made up or its clock is wrong."
        )
    if context.now - sent > MAX_AGE:
        return _fail(
            f"The message is dated {shown}, {_span(context.now - sent)} ago: longer than mail "
            "takes to arrive, so it may be an old message sent again."
        )
    return Finding(NAME, "pass", f"The message is dated {shown}, a plausible sending time.")


def _parsed(value: str) -> datetime | None:
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if sent.tzinfo is None:
        # RFC 5322 §3.3: "-0000" means UTC with the sender's own zone unknown.
        sent = sent.replace(tzinfo=UTC)
    try:
        sent.astimezone(UTC)
    except OverflowError:
        # Year 1 in a zone east of UTC, year 9999 west of it: no real date.
        return None
    return sent


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 3600)} hours"


def _fail(reason: str) -> Finding:
    return Finding(NAME, "fail", reason)
