"""HTML as a mail client renders it: the lines a person sees, hidden text, link targets."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from mailhook.css import drawn_text, hidden_selectors, hides, invisible_colour, overrides_rtl

# Elements whose content a reader never sees and that is no one's text (not "hidden").
_UNRENDERED = frozenset({"script", "style", "title", "xml"})
# Elements that start a new line where a reader sees one; without this an HTML mail
# is one long line and the quoted-line filter would drop or keep all of it together.
_BREAK = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"}
    | {"ul", "ol", "hr", "dl", "dt", "dd", "address", "article", "aside", "body", "center"}
    | {"caption", "details", "dialog", "fieldset", "figure", "figcaption", "footer", "form"}
    | {"header", "html", "main", "menu", "nav", "section", "summary", "tbody", "thead"}
    | {"tfoot", "dir", "hgroup", "legend", "option", "textarea", "optgroup", "search"}
    # Obsolete elements browsers still draw as blocks of preformatted text.
    | {"listing", "plaintext", "xmp"}
)
# Elements drawn as a box of their own inside a line (a table cell, a form control, an
# embedded frame or player): read as a space between the text around them. Every other
# tag that starts no line joins the text around it as a client draws it: phrasing
# content ("trans<span>fer</span>" is one word), and unknown elements, which HTML
# renders inline (HTML §4.13 HTMLUnknownElement; Word's <st1:place>, "b<x-a>eta</x-a>.pl"
# is drawn "beta.pl"). An image is a box unless it is drawn as nothing (see _drawn).
_BOXES = frozenset(
    {"td", "th", "img", "input", "button", "select", "iframe", "video", "audio", "canvas"}
    | {"embed", "object", "marquee", "frame", "applet", "keygen", "meter", "progress"}
)
# Phrasing content (documented above; the renderer joins any element not in _BOXES).
_INLINE = frozenset(
    {"a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn"}
    | {"em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby"}
    | {"s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u"}
    | {"var", "wbr", "o:p", "blink", "output", "slot"}
)
# Elements with no content and no closing tag (HTML "void elements").
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr", "keygen", "command"}
)
_MAX_QUOTE_DEPTH = 8
# RIGHT-TO-LEFT OVERRIDE and POP DIRECTIONAL FORMATTING (UAX #9 §2.2).
_OVERRIDE = "\u202e"
_POP = "\u202c"
# One tag, or a declaration (<!DOCTYPE>); no "<" inside, so a stray "<" in the text
# stops the scan there and every character is looked at a bounded number of times.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*+)?+([^<>]*+)>")
_ATTRIBUTE = re.compile(
    r"([a-zA-Z_:][-a-zA-Z0-9_:.]*+)(?:\s*+=\s*+(\"[^\"]*+\"|'[^']*+'|[^\s\"'=<>`]++))?"
)


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a person sees of an HTML part, and what is there but kept out of sight."""

    text: str
    # Text the markup hides (display:none, tiny or white type, hidden attribute,
    # <template>): it is in ``text`` too, since a client may show it after all.
    hidden: str
    # Where links point (href values), in order: a link's text may name another place.
    links: tuple[str, ...]
    # Images and documents carried in the HTML itself (data: URIs, srcdoc): seen, not read.
    embedded_images: int = 0
    # Text in the markup no client draws in the body: <title>, <meta content>. A desk's
    # tool or a browser tab may show it; a request there is hidden text.
    unshown: str = ""


def html_to_text(source: str) -> str:
    """Readable lines of an HTML body; quoted blocks become ``> `` lines."""
    return render_html(source).text


# Where a comment ends: "-->", or "--!>" (an incorrectly closed comment, closed all the same).
_COMMENT_END = re.compile(r"--!?>")


def render_html(source: str) -> Rendered:
    """Render ``source`` as a client would, one pass over it.

    No backtracking regex over the whole body, and every element is pushed and popped
    at most once, so hostile markup (thousands of unclosed tags) costs linear time.
    """
    out = _Lines()
    hiding = _Hiding()
    reversing = _Reversing()
    links: list[str] = []
    titles: list[str] = []
    unshown: list[str] = []
    embedded = 0
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        chunk = source[pos:] if lt < 0 else source[pos:lt]
        if chunk:
            out.text(_unescaped(chunk), hidden=hiding.active)
        if lt < 0:
            break
        conditional = _conditional(source, lt, hiding)
        if conditional:
            pos = conditional
            continue
        if source.startswith("<!--", lt):
            # A comment renders as nothing, also inside a word ("trans<!-- -->fer"). It
            # ends as a browser ends it (HTML Standard §13.2.5.43-52): "<!--->" is one
            # already, and "--!>" closes one as "-->" does; what follows is shown.
            if source.startswith("<!--->", lt):
                pos = lt + 6
                continue
            closed = _COMMENT_END.search(source, lt + 4)
            pos = len(source) if closed is None else closed.end()
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
            elif name == "title":
                unshown.append(_unescaped(source[pos:end]))
            pos = len(source) if close is None else close.end()
            continue
        if "href" in attributes:
            links.append(attributes["href"])
        if name == "meta" and attributes.get("content", "").strip():
            unshown.append(attributes["content"])
        if _embeds(attributes):
            embedded += 1
        if attributes.get("title", "").strip():
            # A tooltip a person reads by pointing at the element: read after the text.
            titles.append(attributes["title"])
        if attributes.get("alt", "").strip():
            # What a client shows in place of an image it does not load (most do not,
            # until asked): text a person reads.
            out.text(" " + attributes["alt"] + " ", hidden=hiding.active)
        if name == "input" and not closing:
            # A form field shows its value (a button its label) and, empty, its
            # placeholder: text a person reads (HTML §4.10.5).
            shown = _field_text(attributes)
            if shown:
                out.text(" " + shown + " ", hidden=hiding.active)
        if closing and reversing.close(name):
            out.text(_POP, hidden=hiding.active)
        # Text drawn right to left whatever its letters (<bdo dir=rtl>, HTML §4.5.24;
        # CSS unicode-bidi: bidi-override): written as the override it is (U+202E …
        # U+202C), which mailhook.normalise puts in the order a reader sees. Written
        # after the line break a block element starts with: an override ends at a line's
        # end (UAX #9 §3.3.1), and one before the break would reverse nothing.
        overriding = not closing and name not in _VOID and reversing.open(name, attributes)
        if closing:
            hiding.close(name)
        elif name not in _VOID and not rest.rstrip().endswith("/"):
            hiding.open(name, attributes)
        if name == "blockquote":
            out.quote(-1 if closing else 1)
        elif name in _BREAK:
            out.newline()
        elif name in _BOXES and _drawn(name, attributes):
            out.text(" ", hidden=hiding.active)
        if overriding:
            out.text(_OVERRIDE, hidden=hiding.active)
    if titles:
        out.newline()
        out.text(" ".join(titles), hidden=False)
    if hiding.generated:
        # CSS "content" draws text that is in no element: read, and held as hidden.
        out.newline()
        out.text(" ".join(hiding.generated), hidden=True)
    return Rendered(
        out.result(), "".join(out.hidden).strip(), tuple(links), embedded, "\n".join(unshown)
    )


def _conditional(source: str, lt: int, hiding: _Hiding) -> int:
    """Where a conditional comment's marker at ``lt`` ends (0: there is none there).

    What "<!--[if mso]> … <![endif]-->" holds only Outlook shows: it is read, and held as
    hidden. "<!--[if !mso]><!--> … <!--<![endif]-->" shows in every other client: read.
    """
    if source.startswith("<!--[if", lt) or source.startswith("<![if", lt):
        end = source.find("]>", lt)
        if end < 0:
            return 0
        condition = source[source.find("[if", lt) + 3 : end]
        hiding.conditions.append(source.startswith("<!--", lt) and "!" not in condition)
        return end + 2
    if source.startswith("<!-->", lt):
        return lt + 5
    for closing in ("<![endif]-->", "<!--<![endif]-->", "<![endif]>"):
        if source.startswith(closing, lt):
            if hiding.conditions:
                hiding.conditions.pop()
            return lt + len(closing)
    return 0


def _embeds(attributes: dict[str, str]) -> bool:
    """Whether an element carries what it shows in its own markup: an image or a document
    as a data: URI (src, or <object data>), or a frame's srcdoc (HTML §4.8.5)."""
    if "srcdoc" in attributes:
        return True
    return any(attributes.get(name, "")[:5].lower() == "data:" for name in ("src", "data"))


def _drawn(name: str, attributes: dict[str, str]) -> bool:
    """Whether a box is drawn between the text around it: not an image of no size (a
    tracking pixel, "beta<img width=0>.pl" shows "beta.pl")."""
    if name != "img":
        return True
    sizes = [attributes.get("width", ""), attributes.get("height", "")]
    return not any(size.strip().removesuffix("px") in ("0", "1") for size in sizes)


def _field_text(attributes: dict[str, str]) -> str:
    if attributes.get("type", "").strip().lower() == "hidden":
        return ""
    return attributes.get("value", "").strip() or attributes.get("placeholder", "").strip()


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
        self.hidden_tags: set[str] = set()
        # Conditional comments open (<!--[if mso]>): whether each hides its content.
        self.conditions: list[bool] = []
        # Text CSS draws itself (``content: "…"`` in ::before / ::after rules).
        self.generated: list[str] = []

    @property
    def active(self) -> bool:
        return bool(self.stack) or any(self.conditions)

    def learn(self, css: str) -> None:
        names, tags = hidden_selectors(css)
        self.hidden_names.update(names)
        self.hidden_tags.update(tags)
        self.generated.extend(drawn_text(css))

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
        if self.hidden_tags and (name in self.hidden_tags or "*" in self.hidden_tags):
            return True
        if not attributes:
            return False
        if "hidden" in attributes or hides(attributes.get("style", "")):
            return True
        if name == "font" and invisible_colour(attributes.get("color", "")):
            return True
        named = attributes.get("class", "").split() + attributes.get("id", "").split()
        return bool(self.hidden_names) and any(each in self.hidden_names for each in named)


class _Reversing:
    """Which open elements draw their text right to left, counted per name as _Hiding."""

    def __init__(self) -> None:
        self.open_count: dict[str, int] = {}
        self.stack: list[tuple[str, int]] = []

    def open(self, name: str, attributes: dict[str, str]) -> bool:
        """Count ``name`` open; whether it starts a right-to-left override."""
        count = self.open_count.get(name, 0) + 1
        self.open_count[name] = count
        rtl = attributes.get("dir", "").strip().lower() == "rtl"
        if (name == "bdo" and rtl) or overrides_rtl(attributes.get("style", "")):
            self.stack.append((name, count))
            return True
        return False

    def close(self, name: str) -> bool:
        """Count ``name`` closed; whether that ends a right-to-left override."""
        count = self.open_count.get(name, 0)
        if count == 0:
            return False
        self.open_count[name] = count - 1
        ended = False
        while self.stack and self.stack[-1][0] == name and self.stack[-1][1] >= count:
            self.stack.pop()
            ended = True
        return ended


class _Lines:
    """Text collected line by line, each line prefixed by its blockquote depth."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.hidden: list[str] = []
        self.depth = 0

    def text(self, piece: str, hidden: bool) -> None:
        if hidden and piece.isspace():
            # A space out of sight draws nothing: "beta<span style=font-size:0> </span>.pl"
            # shows "beta.pl". (Line breaks of hidden blocks are kept: they were asked
            # for by the markup, not drawn.)
            piece = "\n" if "\n" in piece else ""
        elif hidden:
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
