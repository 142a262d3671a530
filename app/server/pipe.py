"""The pipe door: ``intakeguard pipe``, one message on stdin from the local mail server.

A thin adapter like the SMTP door (mailhook.receiver): it makes the canonical message
(mailhook.message) and hands it off (app.server.handoff.make_handoff), in process or to
a remote API; the exit status (sysexits) is the mail server's cue to deliver, bounce or
retry.
"""

from __future__ import annotations

import logging
import sys

from app.db.migrate import prepare_store
from app.server.handoff import deliver, make_handoff
from app.settings import Settings
from app.sysexits import EX_DATAERR, EX_NOPERM, EX_OK, EX_TEMPFAIL
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.message import Channel, Envelope, parse_message
from mailhook.tracing import new_request_id, request_id

__all__ = ["Envelope", "receive"]


def receive(settings: Settings, envelope: Envelope) -> int:
    """One message from stdin, received with ``envelope``; the exit status tells the mail
    server what to do with it (0 recorded, 65 unusable, 75 try again, 77 refused)."""
    request_id.set(new_request_id("pipe"))
    if "log_level" not in settings.model_fields_set:
        # Postfix's pipe(8) logs the start of what the command wrote (stdout and stderr,
        # about a hundred characters): the verdict's INFO line would push its id out of
        # the mail log. Warnings and errors still come; LOG_LEVEL=INFO brings the rest.
        logging.getLogger().setLevel(logging.WARNING)

    raw = sys.stdin.buffer.read(settings.max_message_bytes + 1)
    if len(raw) > settings.max_message_bytes:
        print(
            f"intakeguard: message larger than {settings.max_message_bytes} bytes", file=sys.stderr
        )
        return EX_DATAERR
    try:
        message = parse_message(raw, envelope, Channel.PIPE)
        if not settings.api_url:
            prepare_store(settings)
        receipt = deliver(make_handoff(settings), message)
    except UnusableMessage as exc:
        print(f"intakeguard: unusable message: {exc}", file=sys.stderr)
        return EX_DATAERR
    except TemporaryFailure as exc:
        print(f"intakeguard: temporary failure, retry later: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except RefusedCredentials as exc:
        print(f"intakeguard: {exc}; check INTAKEGUARD_API_TOKEN", file=sys.stderr)
        return EX_NOPERM
    # The last line is the short one: what the mail log keeps of a delivery.
    print(f"decision {receipt.decision}")
    print(f"recorded {receipt.verdict_id}")
    return EX_OK
