"""HTML as a mail client renders it: the lines a person sees, hidden text, link targets."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Elements whose content a reader never sees and that is no one's text (not "hidden").
_UNRENDERED = frozenset({"script", "style", "title"})
# Elements that start a new line where a reader sees one; without this an HTML mail
# is one long line and the quoted-line filter would drop or keep all of it together.
_BREAK = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"}
    | {"ul", "ol", "hr", "dl", "dt", "dd", "address", "article", "aside", "body", "center"}
    | {"caption", "details", "dialog", "fieldset", "figure", "figcaption", "footer", "form"}
    | {"header", "html", "main", "menu", "nav", "section", "summary", "tbody", "thead"}
    | {"tfoot", "dir", "hgroup", "legend", "option", "textarea"}
)
# Elements that run inside a line (HTML "phrasing content"): a client draws
# "trans<span>fer</span>" as one word, so they join the text around them. Any other
# tag (a table cell, an image, an unknown one) is read as a space.
_INLINE = frozenset(
    {"a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn"}
    | {"em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby"}
    | {"s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u"}
    | {"var", "wbr", "o:p", "blink", "output", "meter", "progress", "slot"}
)
# Elements with no content and no closing tag (HTML "void elements").
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr", "keygen", "command"}
)
_MAX_QUOTE_DEPTH = 8
# One tag, or a declaration (<!DOCTYPE>); no "<" inside, so a stray "<" in the text
# stops the scan there and every character is looked at a bounded number of times.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*+)?+([^<>]*+)>")
_ATTRIBUTE = re.compile(
    r"([a-zA-Z_:][-a-zA-Z0-9_:.]*+)(?:\s*+=\s*+(\"[^\"]*+\"|'[^']*+'|[^\s\"'=<>`]++))?"
)
# CSS that takes text out of sight: what a client renders as nothing, or as text no
# one can read (zero or one-pixel type, white or transparent letters, fully transparent).
_HIDING_CSS = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|mso-hide\s*:\s*all"
    r"|opacity\s*:\s*0*(?:\.0*)?\s*(?:;|!|$)"
    r"|(?<![-\w])color\s*:\s*(?:white|transparent|#f{3}(?:f{3})?\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)"
    r"|max-height\s*:\s*0(?:px)?\s*(?:;|!|$)",
    re.IGNORECASE,
)
# Type too small to read: a size and its unit, compared with _TINY.
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d*\.?\d*)\s*([a-z%]*)", re.IGNORECASE)
_TINY = {"px": 2.0, "pt": 2.0, "em": 0.2, "rem": 0.2, "%": 20.0, "": 0.0}
_COLOUR = re.compile(r"(?<![-\w])color\s*:\s*([^;!]+)", re.IGNORECASE)
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([^;!]+)", re.IGNORECASE)
# A rule in a <style> block: its selectors and its declarations.
_CSS_RULE = re.compile(r"([^{}]*+)\{([^{}]*+)\}")
_CSS_NAME = re.compile(r"[.#]([-\w]+)")
# Text a rule draws: content: "…" or '…'.
_CSS_CONTENT = re.compile(r"content\s*:\s*(?:\"([^\"]*+)\"|'([^']*+)')", re.IGNORECASE)
_WHITE_FONT = frozenset({"white", "#fff", "#ffffff", "transparent"})


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a person sees of an HTML part, and what is there but kept out of sight."""

    text: str
    # Text the markup hides (display:none, tiny or white type, hidden attribute,
    # <template>): it is in ``text`` too, since a client may show it after all.
    hidden: str
    # Where links point (href values), in order: a link's text may name another place.
    links: tuple[str, ...]


def html_to_text(source: str) -> str:
    """Readable lines of an HTML body; quoted blocks become ``> `` lines."""
    return render_html(source).text


def render_html(source: str) -> Rendered:
    """Render ``source`` as a client would, one pass over it.

    No backtracking regex over the whole body, and every element is pushed and popped
    at most once, so hostile markup (thousands of unclosed tags) costs linear time.
    """
    out = _Lines()
    hiding = _Hiding()
    links: list[str] = []
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        chunk = source[pos:] if lt < 0 else source[pos:lt]
        if chunk:
            out.text(_unescaped(chunk), hidden=hiding.active)
        if lt < 0:
            break
        if source.startswith("<!--", lt):
            # A comment renders as nothing, also inside a word ("trans<!-- -->fer").
            end = source.find("-->", lt + 4)
            pos = len(source) if end < 0 else end + 3
            continue
        tag = _TAG.match(source, lt)
        if tag is None:
            # A lone "<" ("a < b") is text.
            out.text("<", hidden=hiding.active)
            pos = lt + 1
            continue
        pos = tag.end()
        closing, name = tag.group(1) == "/", (tag.group(2) or "").lower()
        rest = tag.group(3)
        attributes = _attributes(rest) if not closing and rest.strip(" /") else {}
        if name in _UNRENDERED and not closing:
            close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(source, pos)
            end = len(source) if close is None else close.start()
            if name == "style":
                hiding.learn(source[pos:end])
            pos = len(source) if close is None else close.end()
            continue
        if "href" in attributes:
            links.append(attributes["href"])
        if attributes.get("alt", "").strip():
            # What a client shows in place of an image it does not load (most do not,
            # until asked): text a person reads.
            out.text(" " + attributes["alt"] + " ", hidden=hiding.active)
        if closing:
            hiding.close(name)
        elif name not in _VOID and not rest.rstrip().endswith("/"):
            hiding.open(name, attributes)
        if name == "blockquote":
            out.quote(-1 if closing else 1)
        elif name in _BREAK:
            out.newline()
        elif name not in _INLINE:
            out.text(" ", hidden=hiding.active)
    if hiding.generated:
        # CSS "content" draws text that is in no element: read, and held as hidden.
        out.newline()
        out.text(" ".join(hiding.generated), hidden=True)
    return Rendered(out.result(), "".join(out.hidden).strip(), tuple(links))


def _unescaped(chunk: str) -> str:
    # A soft hyphen (&shy;) is drawn only where a line wraps: in the text it is nothing.
    text = html.unescape(chunk) if "&" in chunk else chunk
    return text.replace("\xad", "") if "\xad" in text else text


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        value = match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.setdefault(match.group(1).lower(), html.unescape(value) if "&" in value else value)
    return found


class _Hiding:
    """Which open elements hide their content from the reader.

    Open elements are counted per name; a hiding element remembers how many of its
    name were open with it, and its region ends when a closing tag brings that count
    below. The stack holds only hiding elements, each pushed and popped once.
    """

    def __init__(self) -> None:
        self.open_count: dict[str, int] = {}
        self.stack: list[tuple[str, int]] = []
        # Classes and ids a <style> block hides (".x { display: none }").
        self.hidden_names: set[str] = set()
        # Text CSS draws itself (``content: "…"`` in ::before / ::after rules).
        self.generated: list[str] = []

    @property
    def active(self) -> bool:
        return bool(self.stack)

    def learn(self, css: str) -> None:
        for rule in _CSS_RULE.finditer(css):
            if _hides(rule.group(2)):
                self.hidden_names.update(_CSS_NAME.findall(rule.group(1)))
            if "content" in rule.group(2):
                drawn = (a or b for a, b in _CSS_CONTENT.findall(rule.group(2)))
                self.generated.extend(text for text in drawn if text.strip())

    def open(self, name: str, attributes: dict[str, str]) -> None:
        count = self.open_count.get(name, 0) + 1
        self.open_count[name] = count
        if name == "template" or self._hides(name, attributes):
            self.stack.append((name, count))

    def close(self, name: str) -> None:
        count = self.open_count.get(name, 0)
        if count == 0:
            return
        self.open_count[name] = count - 1
        while self.stack and self.stack[-1][0] == name and self.stack[-1][1] >= count:
            self.stack.pop()

    def _hides(self, name: str, attributes: dict[str, str]) -> bool:
        if not attributes:
            return False
        if "hidden" in attributes or _hides(attributes.get("style", "")):
            return True
        if name == "font" and attributes.get("color", "").strip().lower() in _WHITE_FONT:
            return True
        named = attributes.get("class", "").split() + attributes.get("id", "").split()
        return bool(self.hidden_names) and any(each in self.hidden_names for each in named)


def _hides(style: str) -> bool:
    """Whether CSS declarations ``style`` take their element's text out of sight."""
    if not style:
        return False
    if _HIDING_CSS.search(style):
        return True
    for size in _FONT_SIZE.finditer(style):
        number, unit = size.group(1), size.group(2).lower()
        if number.strip(".") and float(number) <= _TINY.get(unit, 0.0):
            return True
    colour = _COLOUR.search(style)
    background = _BACKGROUND.search(style)
    # Letters the colour of their own background.
    return bool(
        colour
        and background
        and colour.group(1).strip().lower() == background.group(1).strip().lower()
    )


class _Lines:
    """Text collected line by line, each line prefixed by its blockquote depth."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.hidden: list[str] = []
        self.depth = 0

    def text(self, piece: str, hidden: bool) -> None:
        if hidden and not piece.isspace():
            self.hidden.append(piece)
        first, *rest = piece.split("\n")
        self.current.append(first)
        for line in rest:
            self.newline()
            self.current.append(line)

    def newline(self) -> None:
        # The depth shown is capped: thousands of nested quotes would otherwise make
        # the text grow with the square of their number.
        self.lines.append("> " * min(self.depth, _MAX_QUOTE_DEPTH) + "".join(self.current))
        self.current = []

    def quote(self, step: int) -> None:
        self.newline()
        self.depth = max(0, self.depth + step)

    def result(self) -> str:
        self.newline()
        return "\n".join(self.lines)
