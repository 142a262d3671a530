"""display-name: the From display name does not show an address other than the real one."""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header, make_header

from mailhook.addresses import InvalidAddress, normalise_address
from mailhook.checks._headers import as_utf8, quoted, raw_fields
from mailhook.checks._registry import register
from mailhook.checks.from_mailbox import from_mailbox
from mailhook.context import CheckContext
from mailhook.domains import normalise_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "display-name"
RESULTS: tuple[str, ...] = ("pass", "fail", "none")
# Characters a reader takes for "@". NFKC would fold the first two, but the reason
# should say which one was used, so they are listed by name.
AT_LOOKALIKES = {
    "\uff20": "U+FF20 FULLWIDTH COMMERCIAL AT",
    "\ufe6b": "U+FE6B SMALL COMMERCIAL AT",
    "\u24d0": "U+24D0 CIRCLED LATIN SMALL LETTER A",
    "\u24b6": "U+24B6 CIRCLED LATIN CAPITAL LETTER A",
}
# "jan (at) acme (dot) pl", "jan[at]acme.pl", "jan at acme.pl", Polish "małpa"/"kropka".
_SPELLED_AT = re.compile(
    r"\s*[(\[{<]\s*(?:at|ma[lł]pa)\s*[)\]}>]\s*|\s+(?:at|ma[lł]pa)\s+", re.IGNORECASE
)
_SPELLED_DOT = re.compile(
    r"\s*[(\[{<]\s*(?:dot|kropka)\s*[)\]}>]\s*|\s+(?:dot|kropka)\s+", re.IGNORECASE
)
# An address around an "@" is looked for in a window of at most these many characters
# on each side (RFC 5321 §4.5.3.1: 64 for a local part, 255 for a domain), so a 200 KB
# display name costs a linear scan, not a backtracking search.
_LOCAL_TAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+\Z")
_DOMAIN_HEAD = re.compile(r"[\w-]+(?:\.[\w-]+)+")
# Far more "@" than a From header from-mailbox accepts (4 KB) can hold: a name cannot
# hide an address behind enough of them.
_MAX_AT_SIGNS = 5_000


@register(NAME, "the From display name does not carry a different address", results=RESULTS)
def check_display_name(message: InboundMessage, context: CheckContext) -> Finding:
    mailbox = from_mailbox(message, context)
    if mailbox is None:
        return Finding(
            NAME, "none", "The display name cannot be judged: From has no usable address."
        )
    # RFC 5322 §3.2.2: a comment in From ("jan@acme.pl (Ola <ola@beta.pl>)") is shown by
    # mail clients as the name when there is no other, and beside it when there is.
    name = " ".join(filter(None, (mailbox.display_name, *from_comments(message))))
    if not name.strip():
        return Finding(NAME, "none", "The From header has no display name.")
    # Invisible format characters (zero-width space, bidi overrides) hide an address
    # from a pattern without hiding it from a reader.
    visible = "".join(char for char in name if unicodedata.category(char) != "Cf")
    hidden = len(visible) < len(name)
    # Whitespace runs become one space, which also keeps the patterns below linear.
    visible = " ".join(visible.split())
    lookalikes = [label for char, label in AT_LOOKALIKES.items() if char in visible]
    for char in AT_LOOKALIKES:
        visible = visible.replace(char, "@")
    spelled = _SPELLED_AT.sub("@", _SPELLED_DOT.sub(".", visible))
    written = _addresses(visible)
    shown = written or _addresses(spelled)
    ways = []
    if lookalikes:
        ways.append(f"written with {', '.join(lookalikes)} in place of '@'")
    elif shown and not written:
        ways.append("with the '@' spelled out")
    if hidden:
        ways.append("with invisible characters inside")
    how = f" ({'; '.join(ways)})" if ways else ""
    others = [address for address in shown if address != mailbox.address]
    if others:
        return Finding(
            NAME,
            "fail",
            f'The display name "{quoted(name)}" shows the address {others[0]}{how}, but the '
            f"message is from {mailbox.address}: a reader would take it for the wrong sender.",
        )
    if shown:
        return Finding(
            NAME,
            "pass",
            f"The display name repeats the sender's own address {mailbox.address}{how}.",
        )
    return Finding(NAME, "pass", f'The display name "{quoted(name)}" shows no address.')


def from_comments(message: InboundMessage) -> list[str]:
    """The comments of the From header (RFC 5322 §3.2.2), their encoded words decoded
    (RFC 2047 §5 allows them there); the outermost of nested ones whole."""
    fields = raw_fields(message, "From")
    if len(fields) != 1 or "(" not in fields[0]:
        return []
    comments: list[str] = []
    depth, quoted_string, escaped, start = 0, False, False, 0
    value = fields[0]
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and depth == 0:
            quoted_string = not quoted_string
        elif quoted_string:
            continue
        elif char == "(":
            depth += 1
            if depth == 1:
                start = index + 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                comments.append(_decoded(value[start:index]))
    return [comment for comment in comments if comment.strip()]


def _decoded(text: str) -> str:
    try:
        return str(make_header(decode_header(as_utf8(text))))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return as_utf8(text)


def _addresses(text: str) -> list[str]:
    """The addresses written in ``text``, normalised as From addresses are."""
    found: dict[str, None] = {}
    start = 0
    for _ in range(_MAX_AT_SIGNS):
        at = text.find("@", start)
        if at < 0:
            break
        start = at + 1
        local = _LOCAL_TAIL.search(text, max(0, at - 64), at)
        domain = _DOMAIN_HEAD.match(text, at + 1, at + 256)
        if local is None or domain is None:
            continue
        address = _normalised(local.group(0).strip("."), domain.group(0).strip(".-"))
        if address:
            found.setdefault(address)
    return list(found)


def _normalised(local: str, domain: str) -> str | None:
    labels = domain.split(".")
    # A domain worth the name ends in a top-level label of letters (or an A-label).
    tld = labels[-1]
    if len(labels) < 2 or not (tld.isalpha() or tld.lower().startswith("xn--")) or not local:
        return None
    try:
        return normalise_address(f"{local}@{domain}")
    except InvalidAddress:
        return f"{local.lower()}@{normalise_domain(domain)}"
