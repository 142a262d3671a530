"""Addresses: one parser for envelope paths and header mailboxes, and normalising them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header

import idna
from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """An address that is not a single valid mailbox."""


# C0, DEL and C1 controls, as the REST door refuses them (app.api.schemas): none belongs in
# a HELO domain or a path (RFC 5321 §4.1.2), and a NUL cannot even be stored in PostgreSQL.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_character(text: str) -> bool:
    """Whether ``text`` (a HELO name, a path, an XFORWARD value) holds a control character."""
    return _CONTROL_CHARACTER.search(text) is not None


def normalise_address(address: str) -> str:
    """Return ``address`` in the form addresses are compared in.

    The domain is case-insensitive and may be written as U-label or A-label
    (RFC 5890), so it becomes a lower-case A-label. The local part is folded to
    lower case too: every mailbox provider our customers use treats it that way,
    and a comparison that is stricter than delivery would only confuse agents.
    """
    try:
        checked = validate_email(
            address, check_deliverability=False, allow_smtputf8=True, allow_quoted_local=False
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    domain = checked.domain.lower()
    if domain.isascii() and "xn--" not in domain:
        # email_validator let it through as letters, digits and hyphens in labels of 1-63
        # not starting or ending with "-" nor holding "--" third and fourth: IDNA keeps
        # such a name as it is. The idna call was a third of this function's time.
        return f"{checked.local_part.lower()}@{domain}"
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidAddress(f"the domain {domain!r} is not a valid domain name: {exc}") from exc
    return f"{checked.local_part.lower()}@{ascii_domain}"


def mask_address(address: str) -> str:
    """Show enough of an address for an agent to recognise it, not to harvest it."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    shown = local[:1] if len(local) <= 3 else local[:2]
    return f"{shown}***@{domain}"


# RFC 5321 §4.1.2 / RFC 5322 §3.2.3: the characters of an atom; RFC 6531 §3.3 adds UTF-8.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
# RFC 5321 §4.1.2 obsolete source route: "@relay1,@relay2:" before the mailbox.
_SOURCE_ROUTE = re.compile(r"@[^,:@<>\s]+(?:\s*,\s*@[^,:@<>\s]+)*\s*:")
# RFC 5321 §4.1.3: an address literal, [IPv4] or [IPv6:…] or a general one.
_ADDRESS_LITERAL = re.compile(r"\[[\x21-\x5a\x5e-\x7e]*\]")
# An ASCII domain: labels of letters, digits, hyphens (and the underscore real hosts use).
_ASCII_DOMAIN = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*"
)
# What an unquoted local part may not hold: quotes, brackets, a backslash, controls.
_UNQUOTED_LOCAL_FORBIDDEN = re.compile(r'["<>\\\x00-\x1f\x7f]')
MAX_PATH_LENGTH = 998  # RFC 5322 §2.1.1: no line is longer; no address either


@dataclass(frozen=True, slots=True)
class Path:
    """An address as the checks compare it: local part and domain, read once, one way.

    ``local`` is the local part with quoting and escapes resolved, case kept (RFC 5321
    §2.4: only its owner may fold it); ``domain`` the lower-case A-label without a
    trailing dot, or an address literal as written. The null path (``<>``) has both empty.
    """

    local: str
    domain: str

    @property
    def is_null(self) -> bool:
        return not self.local and not self.domain

    @property
    def address(self) -> str:
        """``local@domain``, the local part quoted again when it is not a dot-atom."""
        if self.is_null:
            return ""
        local = self.local
        if not _DOT_ATOM.fullmatch(local):
            local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{local}@{self.domain}"


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One mailbox of an address header: what the reader sees, and the address."""

    display_name: str
    path: Path


def parse_path(text: str) -> Path:
    """An envelope path (MAIL FROM, RCPT TO, smtp.mailfrom) read as RFC 5321 §4.1.2 does.

    Angle brackets are optional; ``<>`` (or nothing) is the null path; a source route
    (``<@a,@b:user@d>``, obsolete) is dropped; a quoted local part may hold ``@`` and
    escaped characters, and the domain is what follows it: ``"jan@kowalski.pl"@evil.pl``
    is an address at evil.pl. A sender without a local part (``@d`` or ``d`` alone,
    which RFC 7208 §4.3 reads as postmaster@d) gives an empty local part.

    Raises InvalidAddress naming what is wrong.
    """
    path = text.strip()
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidAddress(f"the address is longer than {MAX_PATH_LENGTH} characters")
    if path.startswith("<") or path.endswith(">"):
        if not (path.startswith("<") and path.endswith(">")):
            raise InvalidAddress("an angle bracket is not closed")
        path = path[1:-1].strip()
    if not path:
        return Path("", "")
    route = _SOURCE_ROUTE.match(path)
    if route is not None:
        path = path[route.end() :].lstrip()
    local, rest = _local_part(path)
    if not rest.startswith("@"):
        if local and rest == "" and not path.startswith('"') and "@" not in path:
            return Path("", _domain(local))  # a domain alone (RFC 7208 §4.3)
        raise InvalidAddress("the local part is not followed by @ and a domain")
    return Path(local, _domain(rest[1:]))


def parse_mailbox(text: str) -> Mailbox:
    """One mailbox of a header field (RFC 5322 §3.4): ``Name <addr>`` or a bare addr-spec.

    Comments are removed, a quoted display name unquoted and its encoded words decoded
    (RFC 2047); the address is read by parse_path. Raises InvalidAddress for anything
    but exactly one mailbox (a list, a group, no address).
    """
    plain = _without_comments(text).strip()
    if _outside_quotes(plain, ",;"):
        raise InvalidAddress("the header holds more than one address, or a group")
    opening = _outside_quotes(plain, "<")
    if opening is None:
        if _outside_quotes(plain, "@") is None:
            raise InvalidAddress("the header holds no address")
        return Mailbox("", parse_path(_without_spaces(plain)))
    closing = plain.find(">", opening)
    if closing < 0:
        raise InvalidAddress("an angle bracket is not closed")
    if closing != len(plain) - 1:
        raise InvalidAddress("text follows the address in angle brackets")
    if _outside_quotes(plain[:opening], "@") is not None:
        # RFC 5322 §3.2.5: a display name is words or quoted strings; an unquoted "@" in
        # it makes a second address that readers take for the sender.
        raise InvalidAddress("the display name holds an address outside quotes")
    path = parse_path(_without_spaces(plain[opening:]))
    if path.is_null:
        raise InvalidAddress("the angle brackets hold no address")
    return Mailbox(_display_name(plain[:opening]), path)


def domain_of(text: str) -> str | None:
    """The domain of an address, ``@domain`` or a bare domain; None when there is none."""
    try:
        path = parse_path(text)
    except InvalidAddress:
        return None
    return path.domain or None


def _local_part(path: str) -> tuple[str, str]:
    """(local part with quoting resolved, what follows it) of ``path``."""
    if not path.startswith('"'):
        at = path.find("@")
        local = path if at < 0 else path[:at]
        if _UNQUOTED_LOCAL_FORBIDDEN.search(local):
            # Lenient on purpose (RFC 7208's test suite has "Macro Error@…"): whatever
            # an unquoted local part holds, it holds no "@", so the domain is not in doubt.
            raise InvalidAddress(f"the local part {local!r} is neither a dot-atom nor quoted")
        return local, path[len(local) :]
    characters: list[str] = []
    index = 1
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path):
            # RFC 5321 §4.1.2 quoted-pairSMTP: a backslash takes the next character as is.
            characters.append(path[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(characters), path[index + 1 :]
        if char in "\r\n":
            raise InvalidAddress("a line break inside the quoted local part")
        characters.append(char)
        index += 1
    raise InvalidAddress("the quoted local part is not closed")


def _domain(text: str) -> str:
    """``text`` as a domain compared: a lower-case A-label, trailing dot removed (RFC 5890)."""
    name = text.strip()
    if _ADDRESS_LITERAL.fullmatch(name):
        return name.lower()
    name = name.removesuffix(".").lower()
    if not name:
        raise InvalidAddress("the address has no domain")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidAddress(f"the domain {text!r} is not a valid domain name: {exc}") from exc
    if len(name) > 253 or not _ASCII_DOMAIN.fullmatch(name):
        raise InvalidAddress(f"the domain {text!r} is not a valid domain name")
    return name


def _without_comments(text: str) -> str:
    """``text`` without its comments (RFC 5322 §3.2.2, nested, outside quotes)."""
    kept: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                kept.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                kept.append(char)
            continue
        if quoted:
            quoted = char != '"'
            kept.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            kept.append(char)
    if depth or quoted:
        raise InvalidAddress("a comment or quoted string is not closed")
    return "".join(kept)


def _without_spaces(addr_spec: str) -> str:
    """``addr_spec`` without the folding white space RFC 5322 §4.4 allows around its parts."""
    return "".join(char for char, bare in _characters(addr_spec) if not (bare and char.isspace()))


def _outside_quotes(text: str, wanted: str) -> int | None:
    """The index of the first character of ``wanted`` outside a quoted string, or None."""
    return next(
        (index for index, (char, bare) in enumerate(_characters(text)) if bare and char in wanted),
        None,
    )


def _characters(text: str) -> Iterator[tuple[str, bool]]:
    """Each character of ``text`` and whether it stands bare: outside a quoted string
    (RFC 5322 §3.2.4), not escaped by a backslash, and no quote or backslash itself."""
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            yield char, False
        elif char == "\\":
            escaped = True
            yield char, False
        elif char == '"':
            quoted = not quoted
            yield char, False
        else:
            yield char, not quoted


def _display_name(text: str) -> str:
    """A phrase (RFC 5322 §3.2.5) as a reader sees it: encoded words decoded, unquoted."""
    name = text.strip()
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    try:
        return str(make_header(decode_header(name))).strip()
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return name
