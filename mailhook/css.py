"""Whether CSS takes text out of a reader's sight, and text CSS draws by itself."""

from __future__ import annotations

import re

# CSS that takes text out of sight: what a client renders as nothing, fully transparent,
# scaled or clipped to nothing, or moved off the screen ("text-indent: -9999px").
_HIDING_CSS = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|mso-hide\s*:\s*all"
    # Opacity below a tenth (0, 0.05, 5%): as good as transparent to a reader.
    r"|opacity\s*:\s*(?:0*(?:\.0\d*)?|\d(?:\.\d*)?%)\s*(?:;|!|$)"
    r"|max-height\s*:\s*0(?:px)?\s*(?:;|!|$)"
    r"|(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\d{3,}"
    r"|clip\s*:\s*rect\(\s*0|clip-path\s*:\s*inset\(\s*(?:50|100)%"
    r"|transform\s*:\s*scale\(\s*0*(?:\.0\d*)?\s*(?:,[^)]*)?\)"
    # Letters drawn over each other: a space (or a word) of negative spacing is nothing.
    r"|letter-spacing\s*:\s*-(?:(?:[1-9]\d*(?:\.\d*)?|0?\.[3-9]\d*)r?em|(?:[4-9]|\d{2,})(?:\.\d*)?px)"
    # Text drawn in another order than it is written (CSS Flexbox §5.1, §5.4): the items
    # "pl", ".", "beta" of a row-reverse box read "beta.pl". Held, not reordered here.
    r"|flex-direction\s*:\s*(?:row|column)-reverse|flex-flow\s*:[^;]*-reverse"
    r"|(?<![-\w])order\s*:\s*-?\d"
    # Text mirrored or turned over (a negative scale, half a turn): drawn otherwise
    # than it reads, in an order the reader does not put it back in.
    r"|transform\s*:[^;]*(?:scale[xy]?\(\s*-|matrix\(\s*-|rotate[xyz]?\(\s*(?:1[0-9]{2}|2[0-5][0-9])deg"
    r"|rotate[xyz]?\(\s*0?\.5turn)",
    re.IGNORECASE,
)
# A box of no height or width that clips what overflows it.
_ZERO_SIZE = re.compile(r"(?<![-\w])(?:height|width)\s*:\s*0+(?:px|em|%)?\s*(?:;|!|$)", re.I)
_CLIPPED = re.compile(r"overflow\s*:\s*hidden", re.IGNORECASE)
# Type too small to read: a size and its unit, compared with _TINY.
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d*\.?\d*)\s*([a-z%]*)", re.IGNORECASE)
_TINY = {"px": 2.0, "pt": 2.0, "em": 0.2, "rem": 0.2, "%": 20.0, "": 0.0}
_COLOUR = re.compile(r"(?<![-\w])color\s*:\s*([^;!]+)", re.IGNORECASE)
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([^;!]+)", re.IGNORECASE)
# Colours no one reads on a page: white and its near-white names, anything transparent.
_WHITE_NAMES = frozenset(
    {"white", "transparent", "snow", "ivory", "ghostwhite", "whitesmoke", "floralwhite"}
    | {"seashell", "mintcream", "azure", "aliceblue", "honeydew", "lavenderblush", "oldlace"}
)
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})\b", re.IGNORECASE)
_FUNCTION = re.compile(r"(rgba?|hsla?)\(([^)]*)\)", re.IGNORECASE)
# Each of red, green and blue at least this (of 255): white to the eye.
_NEAR_WHITE = 240
# A rule in a <style> block: its selectors and its declarations.
_CSS_RULE = re.compile(r"([^{}]*+)\{([^{}]*+)\}")
_CSS_NAME = re.compile(r"[.#]([-\w]+)")
_CSS_TAG = re.compile(r"[a-zA-Z][\w-]*|\*")
_COMBINATORS = re.compile(r"[\s>+~]+")
_MEDIA = re.compile(r"@media\b", re.IGNORECASE)
_BRACES = re.compile(r"[{}]")
_CSS_CONTENT_ATTRIBUTE = re.compile(r"content\s*:[^;}]*attr\(", re.IGNORECASE)
# Text a rule draws: content: "…" or '…'.
_CSS_CONTENT = re.compile(r"content\s*:\s*(?:\"([^\"]*+)\"|'([^']*+)')", re.IGNORECASE)


# CSS Writing Modes §2.4: an element that draws its text right to left whatever its
# letters ("unicode-bidi: bidi-override; direction: rtl").
_OVERRIDE = re.compile(r"unicode-bidi\s*:\s*(?:bidi-|isolate-)?override", re.IGNORECASE)
_RTL = re.compile(r"direction\s*:\s*rtl", re.IGNORECASE)


def overrides_rtl(style: str) -> bool:
    """Whether CSS declarations ``style`` draw their element's text right to left."""
    return bool(style) and bool(_OVERRIDE.search(style)) and bool(_RTL.search(style))


def hidden_selectors(css: str) -> tuple[set[str], set[str]]:
    """Classes and ids, and tag names, that the rules of a <style> block hide."""
    names: set[str] = set()
    tags: set[str] = set()
    for rule in _CSS_RULE.finditer(_without_media(css)):
        # A rule drawing text right to left is held as hiding it: the reader puts an
        # element's own override in order (htmltext), not one a class or tag is given.
        if not hides(rule.group(2)) and not overrides_rtl(rule.group(2)):
            continue
        for selector in rule.group(1).split(","):
            # What a selector applies to is named in its last compound ("div .x").
            compound = _COMBINATORS.split(selector.strip())[-1]
            names.update(_CSS_NAME.findall(compound))
            tag = _CSS_TAG.match(compound)
            if tag is not None:
                tags.add(tag.group(0).lower())
    return names, tags


def drawn_text(css: str) -> list[str]:
    """Text the rules draw themselves (``content: "…"`` in ::before and ::after, and
    the strings of the other properties that draw one: see style_draws)."""
    drawn = style_draws(css)
    if "content" not in css:
        return drawn
    drawn.extend(a or b for a, b in _CSS_CONTENT.findall(css))
    if _CSS_CONTENT_ATTRIBUTE.search(css):
        # content: attr(data-x) draws an attribute's value, which the renderer does not
        # look up: it is drawn text all the same, held as such.
        drawn.append("(the value of an attribute, drawn by CSS)")
    return [text for text in dict.fromkeys(drawn) if text.strip()]


# Properties (and @counter-style descriptors) whose string values are drawn as text:
# a list item's marker (CSS Lists §3.2: list-style-type: "…"), the marks <q> draws
# (CSS Generated Content §3: quotes), a counter style's symbols, prefix and suffix, what
# a cut line ends with (text-overflow: "…"), emphasis marks and the hyphen drawn; and
# every string of generated content, also after a counter or a quote ("content:
# counter(x) '…'"), which _CSS_CONTENT, reading the first value only, passes over.
_DRAWING_PROPERTY = re.compile(
    r"(?<![-\w])(?:list-style(?:-type)?|quotes|symbols|additive-symbols|prefix|suffix|negative"
    r"|pad|text-overflow|text-emphasis(?:-style)?|(?:-webkit-)?hyphenate-character|content)"
    r"\s*:([^;{}]*)",
    re.IGNORECASE,
)
_STRING = re.compile(r"\"([^\"]*+)\"|'([^']*+)'")


def style_draws(css: str) -> list[str]:
    """Strings of letters or digits the declarations in ``css`` draw (see
    _DRAWING_PROPERTY); marks alone ("•", "„" "”") ask for nothing and are left out."""
    if '"' not in css and "'" not in css:
        return []
    found = []
    for declaration in _DRAWING_PROPERTY.finditer(css):
        for a, b in _STRING.findall(declaration.group(1)):
            if any(char.isalnum() for char in a or b):
                found.append(a or b)
    return found


# What a style block draws that the reader does not see: an image in a data: URI, a
# font it brings (whose letters may be drawn as others), a style sheet it loads.
_ELSEWHERE = (
    (re.compile(r"url\(\s*['\"]?\s*data:", re.IGNORECASE), "an image in its CSS"),
    (
        re.compile(r"@font-face\s*\{[^}]*src\s*:", re.IGNORECASE),
        "a font of its own, which may draw letters as others",
    ),
    (re.compile(r"@import\b", re.IGNORECASE), "a style sheet it loads"),
    # An image from an address outside the message (a part's cid: is read as the part).
    (
        re.compile(
            r"(?:background|content|list-style|border-image|mask|cursor)[\w-]*\s*:"
            r"[^;}]*url\(\s*+['\"]?+\s*+(?!data:|cid:|#|['\")])",
            re.IGNORECASE,
        ),
        "an image it loads",
    ),
)


def drawn_elsewhere(css: str) -> list[str]:
    """What the rules of ``css`` draw from outside the text (see _ELSEWHERE)."""
    if "@" not in css and "url(" not in css.lower():
        return []
    return [what for pattern, what in _ELSEWHERE if pattern.search(css)]


# A display other than none: what makes an element a browser does not draw drawn.
_DISPLAYED = re.compile(r"(?<![-\w])display\s*:\s*(?!none\b)[a-z-]", re.IGNORECASE)


def shows(style: str) -> bool:
    """Whether declarations ``style`` give their element a display other than none."""
    return bool(style) and _DISPLAYED.search(style) is not None


def revealed_tags(css: str) -> set[str]:
    """Tag names (or "*") the rules of a <style> block give a display other than none:
    "script { display: block }" draws a script's text as written."""
    if "display" not in css.lower():
        return set()
    tags: set[str] = set()
    for rule in _CSS_RULE.finditer(_without_media(css)):
        if not shows(rule.group(2)):
            continue
        for selector in rule.group(1).split(","):
            tag = _CSS_TAG.match(_COMBINATORS.split(selector.strip())[-1])
            if tag is not None:
                tags.add(tag.group(0).lower())
    return tags


def _without_media(css: str) -> str:
    """``css`` without its @media blocks: they apply only to some screens (a dark mode
    that makes text white on black), not to the page a person first sees."""
    if "@media" not in css:
        return css
    kept, pos = [], 0
    for at in _MEDIA.finditer(css):
        if at.start() < pos:
            continue
        kept.append(css[pos : at.start()])
        depth, pos = 0, at.start()
        for brace in _BRACES.finditer(css, at.end()):
            depth += 1 if brace.group() == "{" else -1
            if depth <= 0:
                pos = brace.end()
                break
        else:
            pos = len(css)
    kept.append(css[pos:])
    return "".join(kept)


def hides(style: str) -> bool:
    """Whether CSS declarations ``style`` take their element's text out of sight."""
    if not style:
        return False
    if _HIDING_CSS.search(style):
        return True
    if _ZERO_SIZE.search(style) and _CLIPPED.search(style):
        return True
    for size in _FONT_SIZE.finditer(style):
        number, unit = size.group(1), size.group(2).lower()
        if number.strip(".") and float(number) <= _TINY.get(unit, 0.0):
            return True
    colour = _COLOUR.search(style)
    if colour is None:
        return False
    if invisible_colour(colour.group(1)):
        return True
    # Letters the colour of their own background.
    background = _BACKGROUND.search(style)
    return bool(
        background and colour.group(1).strip().lower() == background.group(1).strip().lower()
    )


def invisible_colour(value: str) -> bool:
    """Whether a CSS colour is white, near white, or transparent."""
    value = value.strip().lower()
    if value in _WHITE_NAMES:
        return True
    hex_colour = _HEX.match(value)
    if hex_colour is not None:
        digits = hex_colour.group(1)
        if len(digits) <= 4:
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        return min(channels[:3]) >= _NEAR_WHITE or (len(channels) == 4 and channels[3] == 0)
    function = _FUNCTION.match(value)
    if function is None:
        return False
    numbers = [n.strip().rstrip("%") for n in re.split(r"[,/\s]+", function.group(2).strip())]
    try:
        values = [float(n) for n in numbers if n]
    except ValueError:
        return False
    if len(values) == 4 and values[3] == 0:
        return True  # fully transparent
    return (
        function.group(1).startswith("rgb") and len(values) >= 3 and min(values[:3]) >= _NEAR_WHITE
    )
