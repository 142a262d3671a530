"""Fail-closed rows of classes 20 to 22: HTML a client draws as text that the reader
took for markup or passed over, text drawn from attributes and CSS, and text CSS draws
in another order or from outside the text.

Each class is a table of surfaces for one payload; ``METAMORPHIC`` puts one payload on
every surface of this round and a few of the earlier ones, and every one holds.
"""

from __future__ import annotations

import base64

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.carried import PAYLOADS
from tests.app.decision.fail_closed.named_fields import fields
from tests.app.decision.fail_closed.rows import (
    OWN_TRANSFER,
    Surfaces,
    legit,
    metamorphic_rows,
    on_surfaces,
)

C20 = "class 20 (text a browser draws that the reader took for markup or passed over)"
C21 = "class 21 (text a client draws from an element's attributes or from CSS)"
C22 = "class 22 (text CSS draws in another order, or from an image, a font or a style sheet)"
# An image (of the request, as far as anyone reading the markup knows).
IMAGE = (
    "data:image/png;base64,"
    + base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 16).decode()
)
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"


def page(body: str, head: str = "") -> Mail:
    """acme's invoice request in HTML, then ``body`` (``head``: in the document's head)."""
    return Mail(
        subject="Faktura",
        html=f"<html><head>{head}</head><body><p>{INVOICE}</p>{body}</body></html>",
    )


def annotated(payload: str, annotation: str) -> str:
    """``payload`` with ``annotation`` (ruby markup) after the second letter of each word
    of four letters or more: a browser draws it above the words, or not at all."""
    return " ".join(
        f"{word[:2]}{annotation}{word[2:]}" if len(word) > 3 else word for word in payload.split()
    )


def as_text(payload: str) -> list[tuple[str, Mail]]:
    """Class 20: ``payload`` where a browser draws text the reader did not read as such."""
    return [
        # HTML §13.2.5.6: "<" before anything but a letter, "!", "/" or "?" is text.
        ("after a '<' and a space", page(f"<p>< {payload} ></p>")),
        ("after '<3'", page(f"<p><3 {payload} ></p>")),
        ("between '<=' and '=>'", page(f"<p><= {payload} =></p>")),
        # RCDATA, RAWTEXT and PLAINTEXT: markup and comments inside are drawn as written.
        ("a comment in a text area", page(f"<textarea><!-- {payload} --></textarea>")),
        ("a comment in an xmp element", page(f"<xmp><!-- {payload} --></xmp>")),
        ("a comment after a plaintext element", page(f"<plaintext><!-- {payload} -->")),
        (
            "a CDATA section in SVG text",
            page(f"<svg><text y='15'><![CDATA[{payload}]]></text></svg>"),
        ),
        ("an xml element in the body", page(f"<xml>{payload}</xml>")),
        (
            "words split by ruby annotations",
            page(f"<p><ruby>{annotated(payload, '<rt>x</rt>')}</ruby></p>"),
        ),
        (
            "words split by ruby parentheses",
            page(f"<p><ruby>{annotated(payload, '<rp>(</rp>')}</ruby></p>"),
        ),
        (
            "a script CSS draws",
            page(f"<script>{payload}</script>", "<style>script { display: block }</style>"),
        ),
        (
            "a style element drawn by its own style",
            page(f"<style style='display:block'>/* {payload} */</style>"),
        ),
    ]


def from_attributes(payload: str) -> list[tuple[str, Mail]]:
    """Class 21: ``payload`` drawn from an attribute or by CSS."""
    return [
        ("an option's label", page(f"<select><option label='{payload}'>x</option></select>")),
        (
            "an option group's label",
            page(f"<select><optgroup label='{payload}'></optgroup></select>"),
        ),
        ("a text area's placeholder", page(f"<textarea placeholder='{payload}'></textarea>")),
        (
            "a list marker in a style attribute",
            page(f"<ul><li style='list-style-type:\"{payload} \"'>x</li></ul>"),
        ),
        (
            "a list marker in a style block",
            page("<ul><li>x</li></ul>", f"<style>li {{ list-style: '{payload} ' inside }}</style>"),
        ),
        ("the quotes a q element draws", page(f'<q style=\'quotes:"{payload} " ""\'>x</q>')),
        (
            "a counter style's symbols",
            page(
                "<ol><li>x</li></ol>",
                f"<style>@counter-style z {{ system: cyclic; symbols: '{payload}' }}"
                " ol { list-style: z }</style>",
            ),
        ),
        (
            "what a cut line ends with",
            page(f"<div style='overflow:hidden;text-overflow:\"{payload}\"'>x</div>"),
        ),
    ]


def reordered(payload: str) -> list[tuple[str, Mail]]:
    """Class 22: ``payload`` drawn in another order than written, by a rule of a style
    block or a transform, and an image of it drawn from the CSS or an attribute."""
    backwards = payload[::-1]
    override = "unicode-bidi: bidi-override; direction: rtl"
    return [
        (
            "written backwards under a class's override",
            page(f"<p class='r'>{backwards}</p>", f"<style>.r {{ {override} }}</style>"),
        ),
        (
            "written backwards under a tag's override",
            page(f"<address>{backwards}</address>", f"<style>address {{ {override} }}</style>"),
        ),
        (
            "written backwards and mirrored",
            page(f"<p style='display:inline-block;transform:scaleX(-1)'>{backwards}</p>"),
        ),
        (
            "an image of it as a background",
            page(f"<div title='' style=\"background-image:url('{IMAGE}');height:40px\"></div>"),
        ),
        (
            "an image of it in a style block",
            page("<div class='b'></div>", f"<style>.b {{ background: url({IMAGE}) }}</style>"),
        ),
        (
            "an image of it in SVG",
            page(f"<svg><image href='{IMAGE}' width='300' height='40'/></svg>"),
        ),
        ("an image of it in a srcset", page(f"<img srcset='{IMAGE} 1x' width='300'>")),
        (
            "an image of it as a table's background",
            page(f"<table background='{IMAGE}'><tr><td>&nbsp;</td></tr></table>"),
        ),
        (
            "an image of it drawn by CSS content",
            page("<p class='c'></p>", f"<style>.c::before {{ content: url({IMAGE}) }}</style>"),
        ),
        (
            "letters a font of its own redraws",
            page(
                "<p style='font-family:X'>Proszę o duplikat faktury.</p>",
                "<style>@font-face { font-family: X;"
                " src: url(data:font/woff2;base64,d09GMgAB) }</style>",
            ),
        ),
        (
            "letters a remote font redraws",
            page(
                "<p style='font-family:X'>Proszę o duplikat faktury.</p>",
                "<style>@font-face { font-family: X;"
                " src: url(https://fonts.example/x.woff2) }</style>",
            ),
        ),
        (
            "text a loaded style sheet draws",
            page("<p class='z'></p>", "<link rel='stylesheet' href='https://css.example/x.css'>"),
        ),
        (
            "text an imported style sheet draws",
            page("<p class='z'></p>", "<style>@import url(https://css.example/x.css);</style>"),
        ),
    ]


CLASSES: tuple[tuple[str, Surfaces], ...] = (
    (C20, as_text),
    (C21, from_attributes),
    (C22, reordered),
)

# Each ended accepted on main before this round (the invoice request recognised, the
# payload not read); read now, the sender's own AuthInfo request asks for the code, the
# rest is held (an image, a font or a style sheet: unreadable, for review).
DRAWN_MARKUP = on_surfaces(PAYLOADS, CLASSES, OWN_TRANSFER)


def _earlier(payload: str) -> list[tuple[str, Mail]]:
    """Surfaces of HTML earlier rounds made the reader read, for the same payload."""
    return [
        ("a form field's value", page(f"<input value='{payload}' size='60'>")),
        ("a tooltip", page(f"<p title='{payload}'>x</p>")),
        (
            "text CSS draws before an element",
            page("<p class='x'></p>", f"<style>.x::before {{ content: '{payload}' }}</style>"),
        ),
        ("hidden text", page(f"<div style='display:none'>{payload}</div>")),
    ]


# One payload on every surface, this round's (fields a client shows too) and a few
# earlier ones': each is held.
METAMORPHIC_MARKUP = metamorphic_rows(
    "Proszę też o przeniesienie domeny acme.pl do innego rejestratora.",
    [_earlier, *(surfaces for _, surfaces in CLASSES), fields],
    OWN_TRANSFER,
)

# What the new readings must leave alone: markup legitimate mail is made of.
DRAWN_MARKUP_LEGITIMATE = [
    legit(
        "Word HTML with its data island in a conditional comment",
        page(
            "",
            "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96"
            "</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a heart typed after the request and a comparison",
        Mail(subject="Faktura", html=f"<p>{INVOICE}</p><p>Dziękuję <3 (kwota < 100 zł)</p>"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a newsletter's style drawing images as blocks, quotes and bullets as marks",
        page(
            "<ul><li>pozycja 1</li></ul><q>cytat</q>",
            "<style>img { display: block } q { quotes: '„' '”' } li { list-style-type: '• ' }"
            " script { display: none }</style>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a script and a style block that no CSS draws",
        page("<script>var x = 'Proszę o kod AuthInfo';</script>", "<style>p { margin: 0 }</style>"),
        "accepted",
        ("invoice_duplicate",),
    ),
]
