"""HTML as a mail client renders it: the lines a person sees, hidden text, link targets."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from mailhook.css import (
    drawn_elsewhere,
    drawn_text,
    hidden_selectors,
    hides,
    invisible_colour,
    revealed_tags,
    shows,
    style_draws,
)
from mailhook.html_elements import (
    ANNOTATIONS,
    BOXES,
    BREAK,
    CDATA_CLOSE,
    CDATA_OPEN,
    RAW_TEXT,
    UNRENDERED,
    VOID,
    Reversing,
    attribute_text,
    drawn,
    drawn_from_elsewhere,
    embeds,
    loads_style,
    raw_text,
    raw_text_end,
    text_aside,
)

_MAX_QUOTE_DEPTH = 8
# RIGHT-TO-LEFT OVERRIDE and POP DIRECTIONAL FORMATTING (UAX #9 §2.2).
_OVERRIDE = "\u202e"
_POP = "\u202c"
# One tag, or a declaration (<!DOCTYPE>, <?…>, </…> not followed by a name); no "<"
# inside, so a stray "<" in the text stops the scan there and every character is looked
# at a bounded number of times. A "<" followed by anything else ("< …>", "<3", "<=") is
# text a browser draws (HTML §13.2.5.6, tag open state), never a tag.
_TAG = re.compile(r"<(?:(/?)([a-zA-Z][a-zA-Z0-9:-]*+)|[!?/])([^<>]*+)>")
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
    # What CSS draws from outside the text (a font or an image it brings, a style sheet
    # it loads): what a person sees there is not read.
    drawn_elsewhere: tuple[str, ...] = ()


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
    reversing = Reversing()
    links: list[str] = []
    titles: list[str] = []
    unshown: list[str] = []
    # Ruby annotations (<rt>, and <rp> a browser hides): drawn above the base text, not
    # in it ("Ko<rt>x</rt>d" shows "Kod"): read after the text, as tooltips are.
    annotations: list[str] = []
    annotating = False
    embedded = 0
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        chunk = source[pos:] if lt < 0 else source[pos:lt]
        if chunk and annotating:
            annotations.append(_unescaped(chunk))
        elif chunk:
            out.text(_unescaped(chunk), hidden=hiding.active)
        if lt < 0:
            break
        conditional = _conditional(source, lt, hiding)
        if conditional:
            pos = conditional
            continue
        if source.startswith(CDATA_OPEN, lt):
            # Text in SVG and MathML (elsewhere a browser hides it): read either way.
            end = source.find(CDATA_CLOSE, lt)
            end = len(source) if end < 0 else end
            out.text(source[lt + len(CDATA_OPEN) : end], hidden=hiding.active)
            pos = min(len(source), end + len(CDATA_CLOSE))
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
        if name in ANNOTATIONS or (name == "ruby" and closing):
            annotating = name in ANNOTATIONS and not closing
        attributes = _attributes(rest) if not closing and rest.strip(" /") else {}
        if name in UNRENDERED and not closing:
            pos = _unrendered(source, pos, name, attributes, hiding, unshown)
            continue
        if "href" in attributes:
            links.append(attributes["href"])
            if loads_style(name, attributes):
                hiding.elsewhere.append("a style sheet it loads")
        if name == "meta" and attributes.get("content", "").strip():
            unshown.append(attributes["content"])
        if embeds(name, attributes):
            embedded += 1
        elsewhere = drawn_from_elsewhere(name, attributes) if attributes else None
        if elsewhere is not None:
            hiding.elsewhere.append(elsewhere)
        aside = text_aside(attributes) if attributes else ""
        if aside:
            # A tooltip or a label read aloud (mailhook.html_elements): after the text.
            titles.append(aside)
        if attributes.get("alt", "").strip():
            # What a client shows in place of an image it does not load (most do not,
            # until asked): text a person reads.
            out.text(" " + attributes["alt"] + " ", hidden=hiding.active)
        if attributes:
            _attribute_text(name, attributes, out, hiding)
        if closing and reversing.close(name):
            out.text(_POP, hidden=hiding.active)
        # Text drawn right to left whatever its letters (<bdo dir=rtl>, HTML §4.5.24;
        # CSS unicode-bidi: bidi-override): written as the override it is (U+202E …
        # U+202C), which mailhook.normalise puts in the order a reader sees. Written
        # after the line break a block element starts with: an override ends at a line's
        # end (UAX #9 §3.3.1), and one before the break would reverse nothing.
        overriding = not closing and name not in VOID and reversing.open(name, attributes)
        if closing:
            hiding.close(name)
        elif name not in VOID and not rest.rstrip().endswith("/"):
            hiding.open(name, attributes)
        if name == "blockquote":
            out.quote(-1 if closing else 1)
        elif name in BREAK:
            out.newline()
        elif name in BOXES and drawn(name, attributes):
            out.text(" ", hidden=hiding.active)
        if overriding:
            out.text(_OVERRIDE, hidden=hiding.active)
        if not closing and name in RAW_TEXT:
            # Drawn as written, comments and tags too: "<textarea><!-- … --></textarea>".
            end, pos = raw_text_end(source, pos, name)
            out.text(raw_text(name, source[tag.end() : end]), hidden=hiding.active)
            hiding.close(name)
            out.newline()
    if titles or annotations:
        out.newline()
        out.text(" ".join([*titles, *annotations]), hidden=False)
    for content in hiding.revealed():
        # A <script> or <style> CSS draws ("style { display: block }"): held as hidden.
        out.newline()
        out.text(content, hidden=True)
    if hiding.generated:
        # CSS "content" draws text that is in no element: read, and held as hidden.
        out.newline()
        out.text(" ".join(hiding.generated), hidden=True)
    return Rendered(
        out.result(),
        "".join(out.hidden).strip(),
        tuple(links),
        embedded,
        "\n".join(unshown),
        tuple(dict.fromkeys(hiding.elsewhere)),
    )


def _unrendered(
    source: str,
    pos: int,
    name: str,
    attributes: dict[str, str],
    hiding: _Hiding,
    unshown: list[str],
) -> int:
    """Read what an element not drawn holds (its content starts at ``pos``); where it ends."""
    close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(source, pos)
    end = len(source) if close is None else close.start()
    content = source[pos:end]
    if name == "style":
        hiding.learn(content)
    if name == "title":
        unshown.append(_unescaped(content))
    elif name == "xml":
        # Word's data islands (in conditional comments, seen by Outlook alone) hold no
        # words; elsewhere a browser draws an <xml> element's text as any unknown one's.
        words = _TAG.sub(" ", content)
        if not words.isspace():
            unshown.append(_unescaped(words))
    elif content and not content.isspace():
        hiding.unrendered.append((name, content, shows(attributes.get("style", ""))))
    return len(source) if close is None else close.end()


def _attribute_text(name: str, attributes: dict[str, str], out: _Lines, hiding: _Hiding) -> None:
    """Text an element's attributes draw: a field's value or placeholder, an option's
    label (mailhook.html_elements); strings its inline CSS draws (a list marker, quotes)."""
    shown = attribute_text(name, attributes)
    if shown:
        out.text(" " + shown + " ", hidden=hiding.active)
    style = attributes.get("style", "")
    if style:
        hiding.generated.extend(style_draws(style))


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
        # Tags a <style> block draws ("script { display: block }"), and the content of
        # each <script> and <style> met, with whether its own style attribute draws it.
        self.revealed_tags: set[str] = set()
        self.unrendered: list[tuple[str, str, bool]] = []
        # What is drawn from outside the text: a font or an image the CSS brings, a
        # style sheet loaded (mailhook.css.drawn_elsewhere).
        self.elsewhere: list[str] = []

    @property
    def active(self) -> bool:
        return bool(self.stack) or any(self.conditions)

    def learn(self, css: str) -> None:
        names, tags = hidden_selectors(css)
        self.hidden_names.update(names)
        self.hidden_tags.update(tags)
        self.generated.extend(drawn_text(css))
        self.revealed_tags.update(revealed_tags(css))
        self.elsewhere.extend(drawn_elsewhere(css))

    def revealed(self) -> list[str]:
        """The content of each <script> and <style> that CSS draws."""
        return [
            content
            for name, content, shown in self.unrendered
            if shown or name in self.revealed_tags or "*" in self.revealed_tags
        ]

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
