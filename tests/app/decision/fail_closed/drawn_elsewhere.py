"""Fail-closed rows of class 25: what HTML draws from an address outside the message (an
image, a frame, an object, a page the reader is sent on to), where the request may be
written in words the reader never sees."""

from __future__ import annotations

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.drawn_markup import page
from tests.app.decision.fail_closed.rows import REVIEW, attack, legit

C25 = "class 25 (text drawn from an address outside the message)"
INVOICE = "<p>Dzień dobry,<br>proszę o duplikat faktury 11/2026 za acme.pl.</p>"
# Where the picture or the page may be: a web server, one written by its IP address, one
# the client completes with its own scheme.
ADDRESSES = ("https://img.example/prosba.png", "http://203.0.113.5/x.gif", "//img.example/a.png")


def drawn_from(address: str) -> list[tuple[str, Mail]]:
    """Class 25: an element drawing what ``address`` holds beside the request."""
    return [
        ("an image", page(f"<p><img src='{address}' width=400 height=60></p>")),
        ("an image with an empty alt", page(f'<img src="{address}" alt="">')),
        ("an image unquoted, in capitals", page(f"<IMG SRC={address}>")),
        ("an image button", page(f"<input type=image src='{address}'>")),
        (
            "a picture's source",
            page(f"<picture><source srcset='{address}'><img src='x'></picture>"),
        ),
        ("a video's poster", page(f"<video poster='{address}'></video>")),
        ("an object", page(f"<object data='{address}' type='image/png'></object>")),
        ("an embed", page(f"<embed src='{address}'>")),
        (
            "a table cell's background",
            page(f"<table><tr><td background='{address}'>x</td></tr></table>"),
        ),
        (
            "a background in a style attribute",
            page(f"<div style='background:url({address})'></div>"),
        ),
        (
            "a background in a style block",
            page(
                "<div class='b'></div>",
                f"<style>.b {{ background-image: url('{address}') }}</style>",
            ),
        ),
        ("an SVG image", page(f"<svg><image href='{address}' width=300 height=40 /></svg>")),
        ("Outlook's VML image", page(f"<!--[if gte mso 9]><v:image src='{address}'/><![endif]-->")),
        ("an AMP image", page(f"<amp-img src='{address}' width=300 height=40></amp-img>")),
        ("a frame", page(f"<iframe src='{address}' width=600 height=100></iframe>")),
        (
            "a page the reader is sent on to",
            page("", f"<meta http-equiv='refresh' content='0;url={address}'>"),
        ),
    ]


def _external_body(address: str) -> Mail:
    """The request as a message/external-body part (RFC 2046 §5.2.3) a client fetches."""
    body = (
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Dzień dobry,\r\nproszę o duplikat faktury 11/2026 za acme.pl.\r\n--b\r\n"
        f'Content-Type: message/external-body; access-type=URL; URL="{address}"\r\n\r\n'
        "Content-Type: text/plain\r\n\r\n--b--\r\n"
    )
    return Mail(subject="Faktura", body=body.encode())


# Each ended accepted on main: the invoice request recognised, and nothing said of what
# the element draws. An agent now looks at the picture or the page.
DRAWN_ELSEWHERE = [
    *(
        attack(f"{where} from «{address}»", C25, mail, REVIEW)
        for address in ADDRESSES
        for where, mail in drawn_from(address)
    ),
    attack(
        "a part whose body is fetched from an address", C25, _external_body(ADDRESSES[0]), REVIEW
    ),
    attack(
        "a frame set",
        C25,
        Mail(
            subject="Faktura",
            html=(
                f"<html><frameset><frame src='{ADDRESSES[0]}'></frameset>"
                f"<body>{INVOICE}</body></html>"
            ),
        ),
        REVIEW,
    ),
]

# The same message with one surface changed: the element in the plain and HTML
# alternatives that agree, or the address written otherwise, is held the same.
METAMORPHIC_ELSEWHERE = [
    attack(
        f"metamorphic, {how}",
        "metamorphic",
        Mail(
            subject="Faktura",
            plain="Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n",
            html=f"<html><body>{INVOICE}<img src='{address}'></body></html>",
        ),
        REVIEW,
    )
    for how, address in (
        ("an image in the HTML alternative", ADDRESSES[0]),
        ("its address with a query", ADDRESSES[0] + "?v=2"),
        ("its address with entities", ADDRESSES[0].replace(":", "&#58;")),
        ("its address in capitals", ADDRESSES[0].upper()),
    )
]

DRAWN_ELSEWHERE_LEGITIMATE = [
    legit(
        "a tracking pixel of no size, which draws nothing",
        page("<img src='https://track.example/o.gif' width='1' height='1' alt=''>"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an image of the message itself (cid:) that is not there, and a link to a page",
        page("<img src='cid:logo@acme.pl' width=0><p><a href='https://www.acme.pl/'>ACME</a></p>"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a meta of a mail program and a base for links",
        page(
            "<a href='kontakt'>kontakt</a>",
            "<meta name='generator' content='Thunderbird'><base href='https://www.acme.pl/'>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
]
