"""Log lines: one JSON object per line (or text), with the request id, without identifiers.

What an operator reads, and what is kept out of it:

- Every line carries the request id of the door it came through (``smtp-…`` for an SMTP
  session, ``http-…`` or the caller's X-Request-ID for the API, ``pipe-…`` for a pipe
  run), so the verdict line of a message can be found from its SMTP session and back.
- PESEL, NIP and REGON never appear in clear: any number in a line that passes one of
  their checksums is replaced by ``[pesel]``, ``[nip]`` or ``[regon]``, in every form the
  mail side recognises in a message (mailhook.identifiers: ``PL5260250274``,
  ``526 025 02 74``, ``526-025-02-74``) as well as plain digit runs.
- One-time codes never appear in clear either: anything shaped like one (8 digits, or
  4 and 4 joined by a space or a hyphen, the forms the catalogue's ``code_pattern``
  reads in mail) standing on its own becomes ``[code removed]``. The same ``redact``
  scrubs what agents write into records (reviews, actions, document notes, erasure
  reasons), and webhooks carry the records as stored.
- E-mail addresses are not written by our per-message lines: the verdict id and
  Message-ID find the message, and the verdict (behind the API's scopes) holds its
  addresses. aiosmtpd's own per-command narration, which repeats every address, is
  kept at WARNING; access logs drop query strings, which carry ``mail_from``/``rcpt``
  and registry filters. Client IP addresses stay: abuse handling needs them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from mailhook.identifiers import IdentifierKind, find_identifiers, valid
from mailhook.tracing import request_id, safe_request_id

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "request_id",
    "taskName",
}

# Digit runs (with the hyphens NIP is often written with) long enough to be an identifier,
# not inside a word; an underscore separates ("nip_5260250274" is an identifier in clear).
_NUMBER = re.compile(r"(?<![^\W_])(?<!-)\d[\d-]{7,16}\d(?![^\W_])(?!-)")


# Between the two groups of a code: what code_pattern allows (a space or a hyphen), and
# what an agent's keyboard or a pasted text puts there instead (tab, no-break spaces,
# dashes).
_CODE_SEPARATOR = r"[ \t\u00a0\u2007\u202f\u2010-\u2015-]"
# A code stands on its own: not inside a longer number, even one written in groups
# ("1234 5678 9012"), nor a part of a hyphen-joined name ("srv-12345678", a UUID's first
# group "12345678-ab12-…"), nor of a word; an underscore separates, as for identifiers.
_CODE = re.compile(
    rf"(?<![^\W_])(?<!\d{_CODE_SEPARATOR})(?<![^\W_]-)"
    rf"\d{{4}}{_CODE_SEPARATOR}?\d{{4}}"
    rf"(?![^\W_])(?!{_CODE_SEPARATOR}\d)(?!-[^\W_])"
)
CODE_REMOVED = "[code removed]"


def redact(text: str) -> str:
    """``text`` with every valid PESEL, NIP or REGON replaced by its kind in brackets, and
    anything shaped like a one-time code by ``[code removed]``."""
    text = _scrub_identifiers(text)
    return _CODE.sub(CODE_REMOVED, text)


def _scrub_identifiers(text: str) -> str:
    text = _NUMBER.sub(_redact_number, text)
    # Then whatever the mail side's finder reads as an identifier (a "PL" prefix, digits in
    # groups with spaces): the log must hide every number a message could be matched on.
    for identifier in find_identifiers(text):
        # reveal(): only to find where the number is written, never to write it anywhere.
        written = r"[- ]?".join(identifier.reveal())
        text = re.sub(
            rf"(?<![0-9])(?:PL ?)?{written}(?![0-9])",
            f"[{identifier.kind.value}]",
            text,
            flags=re.IGNORECASE,
        )
    return text


def _redact_number(match: re.Match[str]) -> str:
    for kind in (IdentifierKind.PESEL, IdentifierKind.NIP, IdentifierKind.REGON):
        # The digits as app.registry.identifiers.normalise reads them (spaces and hyphens
        # dropped), checked by the same rules; logging stays below the registry.
        if valid(kind, match.group().replace(" ", "").replace("-", "")):
            return f"[{kind.value}]"
    return match.group()


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request id of the context it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class WorkerFilter(logging.Filter):
    """Stamps each record with the number of the ``serve --workers`` process that wrote it."""

    def __init__(self, worker: int) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.worker
        return True


# The intake route: each message recorded already has its verdict line (app.decision.
# service), so at INFO its access line says nothing more and costs a formatted line per
# message; kept when the request failed, and at DEBUG.
_INTAKE = ("POST", "/v1/messages")


class _AccessLogFilter(logging.Filter):
    """uvicorn access lines: the path without its query string, and the fields apart;
    none for messages accepted on the intake route unless DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, full_path, version, status = args
            path = str(full_path).split("?", 1)[0]
            if (
                (method, path) == _INTAKE
                and isinstance(status, int)
                and status < 400
                and not logging.getLogger("uvicorn.access").isEnabledFor(logging.DEBUG)
            ):
                return False
            record.args = (client, method, path, version, status)
            record.client = client
            record.method = method
            record.path = path
            record.status = status
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            entry["request_id"] = rid
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The same content for a human: time, level, logger, [request id], message, extras."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = redact(super().format(record))
        return f"{line} {extras}" if extras else line


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: redact(value) if isinstance(value, str) else value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRIBUTES and key != "rid" and not key.startswith("_")
    }


def configure_logging(log_format: str, level: str, worker: int | None = None) -> None:
    """Send every logger, uvicorn's included, to stderr in ``log_format`` at ``level``;
    each line of a worker process (app.server.supervisor) carries its number as ``worker``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    if worker is not None:
        handler.addFilter(WorkerFilter(worker))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Alembic narrates every step at INFO; an operator needs only its warnings.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosmtpd logs each command of each session at INFO, addresses included.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # Through our handler, in our format (uvicorn is started with log_config=None).
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _AccessLogFilter) for f in access.filters):
        access.addFilter(_AccessLogFilter())


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestIdMiddleware:
    """The API door's request id: the caller's X-Request-ID when harmless, else a new one.

    Echoed in the response's X-Request-ID, so a ticketing system can quote it.
    """

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id")
        rid = safe_request_id(given.decode("latin-1") if given else None, "http")
        token = request_id.set(rid)

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
