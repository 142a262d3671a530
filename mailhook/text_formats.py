"""Text formats a client draws other than plain text and HTML: text/enriched and
text/richtext (formatting commands drawn as nothing), and iCalendar and vCard bodies
(content lines unfolded, encoded values decoded, escapes undone)."""

from __future__ import annotations

import base64
import binascii
import quopri
import re

# A formatting command ("<bold>", "</bold>", "<<"); <param>…</param> holds no shown text.
_COMMAND = re.compile(r"<<|</?[a-zA-Z0-9-]{1,60}>")
_PARAM = re.compile(r"<param>.*?</param>", re.IGNORECASE | re.DOTALL)
_LINE_BREAKS = re.compile(r"(?:\r?\n)+")
# iCalendar and vCard content lines: folded and escaped.
_FOLD = re.compile(r"\r?\n[ \t]")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPED = {"n": "\n", "N": "\n"}

# A content line whose value is encoded (vCard 2.1 ENCODING=QUOTED-PRINTABLE or BASE64,
# vCard 3.0 and iCalendar ENCODING=B / BASE64): a client shows the value decoded. A
# quoted-printable value goes on over lines that end in "=" (vCard 2.1's soft break).
_BASE64_LINE = re.compile(
    r"^([a-z0-9-]++)((?:;[^:\r\n]*?)?;encoding=(?:b|base64)\b[^:\r\n]*+):([^\r\n]*)(?=[\r\n]|\Z)",
    re.IGNORECASE | re.MULTILINE,
)

_QP_LINES = re.compile(
    r"^([a-z0-9-]++)((?:;[^:\r\n]*?)?;encoding=quoted-printable\b[^:\r\n]*+):"
    r"((?:[^\r\n]*?=\r?\n)*+[^\r\n]*)(?=[\r\n]|\Z)",
    re.IGNORECASE | re.MULTILINE,
)

_CHARSET_PARAMETER = re.compile(r";charset=([a-z0-9_.:-]+)", re.IGNORECASE)


def enriched_text(source: str) -> str:
    """text/enriched (RFC 1896) and text/richtext (RFC 1341 §7.1.3) as a client shows them.

    Formatting commands are drawn as nothing, inside a word too ("Auth<bold>Info</bold>"
    is "AuthInfo"); what <param> holds is not shown; "<<" (and richtext's <lt>) is "<".
    RFC 1896 §2: a lone line break is a space, n line breaks in a row are n - 1.
    """
    text = _PARAM.sub("", source)
    text = _COMMAND.sub(_command_text, text)
    return _LINE_BREAKS.sub(
        lambda run: " " if run.group(0).count("\n") == 1 else "\n" * (run.group(0).count("\n") - 1),
        text,
    )


def unfolded_content_lines(source: str) -> str:
    """An iCalendar or vCard body as a client shows its values: folded lines unfolded
    (RFC 5545 §3.1, RFC 6350 §3.2: a line break and one space or tab are nothing, so
    "be\\r\\n ta.pl" is beta.pl) and escaped text unescaped (RFC 5545 §3.3.11)."""
    text = _FOLD.sub("", source)
    if "encoding=" in text.lower():
        text = _QP_LINES.sub(_decoded_value, _BASE64_LINE.sub(_decoded_value, text))
    return _ESCAPE.sub(lambda escape: _ESCAPED.get(escape.group(1), escape.group(1)), text)


def _decoded_value(line: re.Match[str]) -> str:
    """A content line with its value decoded, as a client shows it ("NOTE:…")."""
    name, parameters, value = line.groups()
    try:
        if "quoted-printable" in parameters.lower():
            raw = quopri.decodestring(value.encode("utf-8", "replace"))
        else:
            raw = base64.b64decode("".join(value.split()) + "==", validate=False)
    except (ValueError, binascii.Error):
        return str(line.group(0))
    charset = _CHARSET_PARAMETER.search(parameters)
    try:
        decoded = raw.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        decoded = raw.decode("utf-8", errors="replace")
    return f"{name}:{decoded}"


def _command_text(command: re.Match[str]) -> str:
    name = command.group(0).lower()
    if name == "<<" or name == "<lt>":
        return "<"
    return "\n" if name in ("<nl>", "<np>") else ""
