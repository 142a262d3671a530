"""What a client draws of HTML elements: lines, boxes, raw text and attribute text."""

from __future__ import annotations

import html
import re

from mailhook.css import overrides_rtl

# Elements whose content a reader never sees and that is no one's text (not "hidden").
# CSS may draw a <script> or <style> all the same (htmltext reads it then, as hidden);
# <xml> is an unknown element to a browser, which draws its text: read as unshown text.
UNRENDERED = frozenset({"script", "style", "title", "xml"})
# Elements that start a new line where a reader sees one; without this an HTML mail
# is one long line and the quoted-line filter would drop or keep all of it together.
BREAK = frozenset(
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
# is drawn "beta.pl"). An image is a box unless it is drawn as nothing (see drawn).
BOXES = frozenset(
    {"td", "th", "img", "input", "button", "select", "iframe", "video", "audio", "canvas"}
    | {"embed", "object", "marquee", "frame", "applet", "keygen", "meter", "progress"}
)
# Phrasing content (documented above; the renderer joins any element not in BOXES).
INLINE = frozenset(
    {"a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn"}
    | {"em", "font", "i", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby"}
    | {"s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u"}
    | {"var", "wbr", "o:p", "blink", "output", "slot"}
)
# Elements with no content and no closing tag (HTML "void elements").
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr", "keygen", "command"}
)
# Elements whose content a browser draws as it is written, markup and comments too
# (HTML §13.2.5.2-3, §13.2.6.4.7): <textarea> (RCDATA: character references decoded),
# <xmp> (RAWTEXT) and <plaintext>, which runs to the end of the document.
RAW_TEXT = frozenset({"textarea", "xmp", "plaintext"})
# Ruby annotations: drawn above the base text (<rt>) or not at all (<rp>), never in it.
ANNOTATIONS = frozenset({"rt", "rp"})
# A CDATA section: text in SVG and MathML (HTML §13.2.5.42), a comment elsewhere.
CDATA_OPEN = "<![CDATA["
CDATA_CLOSE = "]]>"


def raw_text_end(source: str, pos: int, name: str) -> tuple[int, int]:
    """Where the raw text of element ``name`` opened before ``pos`` ends, and where
    its closing tag does (both the end of ``source`` when it is never closed)."""
    if name == "plaintext":
        return len(source), len(source)
    close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(source, pos)
    return (len(source), len(source)) if close is None else close.span()


def raw_text(name: str, text: str) -> str:
    """What a browser draws of raw text ``text`` of element ``name``."""
    if name == "textarea" and "&" in text:
        text = html.unescape(text)
    return text.replace("\xad", "") if "\xad" in text else text


def attribute_text(name: str, attributes: dict[str, str]) -> str:
    """Text a client draws from an element's attributes in place of (or besides) its
    content: a form field's value or placeholder (HTML §4.10.5), a text area's
    placeholder (§4.10.11), an option's or option group's label (§4.10.8-10)."""
    if name == "input":
        if attributes.get("type", "").strip().lower() == "hidden":
            return ""
        return attributes.get("value", "").strip() or attributes.get("placeholder", "").strip()
    if name == "textarea":
        return attributes.get("placeholder", "").strip()
    if name in ("option", "optgroup"):
        return attributes.get("label", "").strip()
    return ""


def text_aside(attributes: dict[str, str]) -> str:
    """Text a person reads beside an element's content: a tooltip (title), shown on
    pointing at it, and what a screen reader says for it (WAI-ARIA aria-label,
    aria-description), which a client's reader reads aloud in place of what is drawn."""
    found = [attributes.get(key, "").strip() for key in _ASIDE]
    return " ".join(text for text in found if text)


_ASIDE = ("title", "aria-label", "aria-description", "aria-roledescription")


def drawn(name: str, attributes: dict[str, str]) -> bool:
    """Whether a box is drawn between the text around it: not an image of no size (a
    tracking pixel, "beta<img width=0>.pl" shows "beta.pl")."""
    if name != "img":
        return True
    sizes = [attributes.get("width", ""), attributes.get("height", "")]
    return not any(size.strip().removesuffix("px") in ("0", "1") for size in sizes)


def embeds(name: str, attributes: dict[str, str]) -> bool:
    """Whether an element carries what it shows in its own markup: an image or a document
    as a data: URI (src, srcset, <object data>, a poster, a background, SVG's href, an
    image in its style), or a frame's srcdoc (HTML §4.8.5). A link's href is not drawn."""
    if "srcdoc" in attributes:
        return True
    for key, value in attributes.items():
        if key.startswith("data-") or (key == "href" and name in _LINKING):
            continue
        if value[:5].lower() == "data:" or (key in _LISTS and "data:" in value.lower()):
            return True
    return False


# Elements whose href is a link, not something drawn (SVG's <image href> is drawn).
_LINKING = frozenset({"a", "area", "link", "base"})
# Attributes whose value may hold a data: URI after other words: "url(data:…)", "1x, …".
_LISTS = frozenset({"style", "srcset"})


def drawn_from_elsewhere(name: str, attributes: dict[str, str]) -> str | None:
    """What an element draws from an address outside the message, if anything: an image
    (src, srcset, a poster, a background, SVG's href, a URL in its style), a page or a
    document in a frame, an object or an embed, a page it sends the reader on to (<meta
    http-equiv=refresh>) or imports. The picture or page may hold the request in words
    no one reads here. A cid: address is a part of the message (read as that part), a
    data: one is carried in the markup (embeds); an image of no size draws nothing."""
    if name == "meta":
        refresh = attributes.get("http-equiv", "").strip().lower() == "refresh"
        return "a page it sends the reader on to" if refresh else None
    if name == "link":
        return "a document it imports" if "import" in attributes.get("rel", "").lower() else None
    if name in _LINKING or not drawn(name, attributes):
        return None
    for key, value in attributes.items():
        if key in _DRAWN_FROM and _addresses_elsewhere(value):
            return _FROM_FRAMES if name in _FRAMES else "an image it loads"
    style = attributes.get("style", "")
    if "url(" in style.lower() and any(map(_addresses_elsewhere, _STYLE_URL.findall(style))):
        return "an image it loads"
    return None


# Attributes whose value is an address a client fetches and draws (HTML §4.8, SVG 2's
# href, the obsolete background, lowsrc and dynsrc); data- attributes are a page's own.
_DRAWN_FROM = frozenset(
    {"src", "srcset", "poster", "background", "data", "href", "xlink:href", "lowsrc"}
    | {"dynsrc", "code", "archive", "codebase"}
)
_FRAMES = frozenset({"iframe", "frame", "object", "embed", "portal", "applet", "fencedframe"})
_FROM_FRAMES = "a page or a document it loads"
_STYLE_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)


def _addresses_elsewhere(value: str) -> bool:
    """Whether an attribute's value names an address outside the message: anything but
    nothing, a fragment ("#x"), a part of the message (cid:) or data carried (data:)."""
    address = value.strip().lower()
    return bool(address) and not address.startswith(("#", "cid:", "data:", "about:blank"))


def loads_style(name: str, attributes: dict[str, str]) -> bool:
    """Whether an element loads a style sheet (<link rel=stylesheet>), which may draw or
    hide text the reader never sees."""
    return name == "link" and "stylesheet" in attributes.get("rel", "").lower()


class Reversing:
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
