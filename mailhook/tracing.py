"""The request id that ties a message's log lines together, from its door to its verdict."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

# Set by the door (SMTP session, pipe run, HTTP request) and copied by asyncio tasks
# and worker threads, so the verdict's log line carries the id of the session it came in.
request_id: ContextVar[str | None] = ContextVar("intakeguard_request_id", default=None)

# What we accept from a caller's X-Request-ID: short, and nothing that could forge a log line.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id(prefix: str) -> str:
    """A fresh id such as ``smtp-3f9c2a7d51e4``; the prefix names the door."""
    return f"{prefix}-{secrets.token_hex(6)}"


def safe_request_id(value: str | None, prefix: str) -> str:
    """``value`` when it is a harmless id, else a fresh one."""
    if value is not None and _SAFE_ID.fullmatch(value):
        return value
    return new_request_id(prefix)
