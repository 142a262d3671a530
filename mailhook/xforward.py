"""Postfix XFORWARD (XFORWARD_README): what a trusted relay tells us about its client."""

from __future__ import annotations

import ipaddress

from mailhook.addresses import has_control_character

# Postfix XFORWARD_README: these values mean "not known", not a value.
_XFORWARD_UNKNOWN = ("[UNAVAILABLE]", "[TEMPUNAVAIL]")
_XFORWARD_NAMES = ("NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE")


def parse_xforward(arg: str) -> dict[str, str] | None:
    """The attributes of an XFORWARD command's argument; None when it is malformed."""
    attributes: dict[str, str] = {}
    for item in arg.split():
        name, sep, value = item.partition("=")
        name = name.upper()
        if not sep or name not in _XFORWARD_NAMES:
            return None
        value = _xtext_decode(value)
        if has_control_character(value):
            # Refused in a client's own EHLO (mailhook.smtp), so in a relay's account of it.
            return None
        if name == "ADDR" and value not in _XFORWARD_UNKNOWN:
            value = value.removeprefix("IPV6:")
            try:
                value = str(ipaddress.ip_address(value))
            except ValueError:
                return None
        if value not in _XFORWARD_UNKNOWN:
            attributes[name] = value
    return attributes if arg.strip() else None


def _xtext_decode(value: str) -> str:
    # RFC 3461 §4: "+HH" encodes a byte.
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "+" and i + 2 < len(value) + 1 and value[i + 1 : i + 3].isalnum():
            try:
                out.append(chr(int(value[i + 1 : i + 3], 16)))
                i += 3
                continue
            except ValueError:
                pass
        out.append(value[i])
        i += 1
    return "".join(out)
