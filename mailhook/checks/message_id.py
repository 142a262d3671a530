"""message-id: exactly one Message-ID of the form <left@right>."""

from __future__ import annotations

import re

from mailhook.checks._headers import as_utf8, quoted, raw_fields
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "message-id"
RESULTS: tuple[str, ...] = ("pass", "fail")
# RFC 5322 §3.6.4: msg-id = "<" id-left "@" id-right ">", id-left a dot-atom-text,
# id-right a dot-atom-text or a no-fold-literal; RFC 6532 §3.2 adds UTF-8 to atext.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\ud7ff\ue000-\U0010ffff]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_NO_FOLD_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
MSG_ID = re.compile(rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|{_NO_FOLD_LITERAL})>")


@register(NAME, "one Message-ID header of the form <left@right>", results=RESULTS)
def check_message_id(message: InboundMessage, context: CheckContext) -> Finding:
    fields = raw_fields(message, "Message-ID")
    if not fields:
        # RFC 5322 §3.6.4: every message SHOULD have one; mail programs always add it.
        return _fail(
            "The message has no Message-ID header; every mail program adds one, and without "
            "it a copy of the message sent again cannot be recognised."
        )
    if len(fields) > 1:
        # RFC 5322 §3.6: at most one Message-ID.
        return _fail(f"The message has {len(fields)} Message-ID headers; RFC 5322 allows one.")
    value = as_utf8(fields[0]).strip()
    if not MSG_ID.fullmatch(value):
        return _fail(
            f'The Message-ID "{quoted(value)}" is not of the form <left@right> that '
            "RFC 5322 §3.6.4 requires."
        )
    return Finding(NAME, "pass", f"The message has one well-formed Message-ID, {quoted(value)}.")


def _fail(reason: str) -> Finding:
    return Finding(NAME, "fail", reason)
