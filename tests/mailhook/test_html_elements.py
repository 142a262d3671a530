"""What a client draws of HTML that is not plain element text: "<" that opens no tag,
raw text, CDATA, attribute text, elements CSS draws, and what CSS brings from outside."""

from __future__ import annotations

import pytest

from mailhook.html_elements import (
    attribute_text,
    drawn_from_elsewhere,
    embeds,
    loads_style,
    raw_text_end,
    text_aside,
)
from mailhook.htmltext import render_html
from mailhook.text import fold

REQUEST = "kod AuthInfo"


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(f"<p>< {REQUEST} ></p>", id="a '<' before a space is text"),
        pytest.param(f"<p><3 {REQUEST}</p>", id="a '<' before a digit is text"),
        pytest.param(f"<p><= {REQUEST} =></p>", id="a '<' before '=' is text"),
        pytest.param(f"<textarea><!-- {REQUEST} --></textarea>", id="a comment in a text area"),
        pytest.param(f"<textarea><b>{REQUEST}</b></textarea>", id="tags in a text area"),
        pytest.param(f"<xmp><!-- {REQUEST} --></xmp>", id="a comment in xmp"),
        pytest.param(f"<plaintext><!-- {REQUEST} -->", id="a comment after plaintext"),
        pytest.param(f"<svg><text><![CDATA[{REQUEST}]]></text></svg>", id="CDATA in SVG"),
        pytest.param(f"<select><option label='{REQUEST}'>x</option></select>", id="option label"),
        pytest.param(f"<optgroup label='{REQUEST}'></optgroup>", id="option group label"),
        pytest.param(f"<textarea placeholder='{REQUEST}'></textarea>", id="a placeholder"),
        pytest.param(f"<input placeholder='{REQUEST}'>", id="an empty field's placeholder"),
    ],
)
def test_text_a_browser_draws_is_read(html: str) -> None:
    assert fold(REQUEST) in fold(render_html(html).text)


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<ruby>ko<rt>x</rt>d Au<rt>y</rt>thInfo</ruby>", id="annotations"),
        pytest.param("<ruby>ko<rp>(</rp>d Au<rp>)</rp>thInfo</ruby>", id="parentheses"),
        pytest.param("<ruby>ko<rt>x<rp>(</rp>d Au</ruby>thInfo", id="unclosed, ended by ruby"),
    ],
)
def test_ruby_annotations_are_read_apart_from_the_words(html: str) -> None:
    assert render_html(html).text.split("\n")[0] == "kod AuthInfo"


def test_a_text_area_decodes_references_and_xmp_does_not() -> None:
    assert "AuthInfo" in render_html("<textarea>Auth&#73;nfo</textarea>").text
    assert "Auth&#73;nfo" in render_html("<xmp>Auth&#73;nfo</xmp>").text
    # What follows the raw text is markup again.
    assert render_html("<textarea>a</textarea><b>c</b>").text.split() == ["a", "c"]


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(f"<!DOCTYPE html><p>x</p><? {REQUEST} ?>", id="a processing instruction"),
        pytest.param(f"<p>x</p></ {REQUEST} >", id="an end tag with no name"),
        pytest.param(f"<p>x</p><![CDATA[ {REQUEST} ]] x", id="never drawn, but read: CDATA"),
        pytest.param(f"<script>{REQUEST}</script><p>x</p>", id="a script"),
        pytest.param(f"<style>/* {REQUEST} */</style><p>x</p>", id="a style block"),
        pytest.param(
            f"<style>script {{ display: none }}</style><script>{REQUEST}</script>",
            id="a script CSS keeps hidden",
        ),
    ],
)
def test_what_a_browser_does_not_draw_is_not_shown_text(html: str) -> None:
    rendered = render_html(html)
    if "CDATA" in html:
        # A comment outside SVG and MathML, text inside: read either way.
        assert fold(REQUEST) in fold(rendered.text)
    else:
        assert fold(REQUEST) not in fold(rendered.text)
    assert rendered.hidden == ""


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(
            f"<style>script {{ display: block }}</style><script>{REQUEST}</script>",
            id="a script a style block draws",
        ),
        pytest.param(
            f"<script>{REQUEST}</script><style>* {{ display: inline }}</style>",
            id="a script every element is drawn, the rule after it",
        ),
        pytest.param(
            f"<style style='display:block'>/* {REQUEST} */</style>", id="a style drawn by itself"
        ),
        pytest.param(f"<ul><li style='list-style-type:\"{REQUEST} \"'>x</li></ul>", id="marker"),
        pytest.param(f"<style>q {{ quotes: '{REQUEST}' '' }}</style><q>x</q>", id="quotes"),
    ],
)
def test_text_css_draws_is_read_and_hidden(html: str) -> None:
    rendered = render_html(html)
    assert fold(REQUEST) in fold(rendered.hidden)
    assert fold(REQUEST) in fold(rendered.text)


def test_an_xml_island_outside_a_conditional_comment_is_unshown_text() -> None:
    assert render_html(f"<xml><a>{REQUEST}</a></xml><p>x</p>").unshown.split() == [
        "kod",
        "AuthInfo",
    ]
    word = "<!--[if gte mso 9]><xml><o:PixelsPerInch>96</o:PixelsPerInch></xml><![endif]-->"
    assert render_html(word).hidden == ""


IMAGE = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("html", "embedded", "elsewhere"),
    [
        pytest.param(f"<div style=\"background:url('{IMAGE}')\"></div>", 1, (), id="a background"),
        pytest.param(f"<svg><image href='{IMAGE}'/></svg>", 1, (), id="an SVG image"),
        pytest.param(f"<img srcset='{IMAGE} 1x'>", 1, (), id="a srcset"),
        pytest.param(f"<table background='{IMAGE}'></table>", 1, (), id="a table background"),
        pytest.param(f"<a href='{IMAGE}'>x</a>", 0, (), id="a link is not drawn"),
        pytest.param(f"<p data-x='{IMAGE}'>x</p>", 0, (), id="a data attribute is not drawn"),
        pytest.param(
            f"<style>.b {{ background: URL( '{IMAGE}' ) }}</style>",
            0,
            ("an image in its CSS",),
            id="an image in a style block",
        ),
        pytest.param(
            "<style>@font-face { font-family: X; src: url(x.woff2) }</style>",
            0,
            ("a font of its own, which may draw letters as others",),
            id="a font it brings",
        ),
        pytest.param(
            "<style>@font-face { font-family: 'Cambria Math'; panose-1: 2 4 5 3 }</style>",
            0,
            (),
            id="Word's font declaration brings no font",
        ),
        pytest.param(
            "<link rel='Stylesheet' href='https://css.example/x.css'>",
            0,
            ("a style sheet it loads",),
            id="a linked style sheet",
        ),
        pytest.param(
            "<style>@import 'x.css';</style>", 0, ("a style sheet it loads",), id="an import"
        ),
    ],
)
def test_what_is_drawn_from_outside_the_text(
    html: str, embedded: int, elsewhere: tuple[str, ...]
) -> None:
    rendered = render_html(html)
    assert (rendered.embedded_images, rendered.drawn_elsewhere) == (embedded, elsewhere)


def test_element_helpers() -> None:
    assert attribute_text("input", {"type": "hidden", "value": "x"}) == ""
    assert attribute_text("input", {"value": "", "placeholder": "p"}) == "p"
    assert attribute_text("option", {"label": " l "}) == "l"
    assert attribute_text("p", {"label": "l"}) == ""
    assert embeds("image", {"href": IMAGE}) and not embeds("a", {"href": IMAGE})
    assert loads_style("link", {"rel": "stylesheet"}) and not loads_style("link", {"rel": "icon"})
    source = "<textarea>a</TEXTAREA >b"
    assert raw_text_end(source, 10, "textarea") == (11, 23)
    assert raw_text_end(source, 10, "plaintext") == (len(source), len(source))


IMAGE_AT = "an image it loads"
PAGE_AT = "a page or a document it loads"


@pytest.mark.parametrize(
    ("html", "elsewhere"),
    [
        pytest.param("<img src='https://img.example/a.png'>", (IMAGE_AT,), id="an image"),
        pytest.param("<IMG SRC=//img.example/a.png>", (IMAGE_AT,), id="scheme-relative"),
        pytest.param("<img src='https&#58;//img.example/a.png'>", (IMAGE_AT,), id="with an entity"),
        pytest.param("<video poster='http://192.0.2.1/p.jpg'></video>", (IMAGE_AT,), id="poster"),
        pytest.param("<td background='https://img.example/b.gif'>x</td>", (IMAGE_AT,), id="cell"),
        pytest.param(
            "<div style='background:url(https://img.example/b.gif)'></div>",
            (IMAGE_AT,),
            id="a style attribute's background",
        ),
        pytest.param(
            "<style>.b { background-image: url('https://img.example/b.gif') }</style>",
            (IMAGE_AT,),
            id="a style block's background",
        ),
        pytest.param("<svg><image href='https://img.example/a.svg'/></svg>", (IMAGE_AT,), id="SVG"),
        pytest.param("<iframe src='https://x.example/'></iframe>", (PAGE_AT,), id="a frame"),
        pytest.param("<object data='https://x.example/d.pdf'></object>", (PAGE_AT,), id="object"),
        pytest.param(
            "<meta http-equiv='Refresh' content='0;url=https://x.example/'>",
            ("a page it sends the reader on to",),
            id="a refresh",
        ),
        pytest.param(
            "<link rel=import href='https://x.example/p.html'>",
            ("a document it imports",),
            id="an import",
        ),
        # What draws nothing from elsewhere: a link, a tracking pixel, a part of the
        # message (cid:), data carried in the markup, a fragment, a program's meta.
        pytest.param("<a href='https://www.acme.pl/'>acme</a>", (), id="a link"),
        pytest.param("<img src='https://t.example/o.gif' width='1' height='1'>", (), id="a pixel"),
        pytest.param("<img src='cid:logo@acme.pl'>", (), id="a part of the message"),
        pytest.param("<img src='data:image/png;base64,iVBORw0KGgo='>", (), id="carried"),
        pytest.param("<svg><use href='#icon'/></svg>", (), id="a fragment"),
        pytest.param("<meta name='generator' content='Thunderbird'>", (), id="a meta"),
        pytest.param("<div style='background:url(cid:x)'></div>", (), id="a part's background"),
        pytest.param("<base href='https://www.acme.pl/'>", (), id="a base for links"),
    ],
)
def test_what_is_drawn_from_an_address_outside_the_message(
    html: str, elsewhere: tuple[str, ...]
) -> None:
    assert render_html(f"<p>Faktura</p>{html}").drawn_elsewhere == elsewhere


def test_the_same_image_is_drawn_from_elsewhere_on_any_element_that_loads_it() -> None:
    # Metamorphic: one address, on each attribute a client fetches it through.
    address = "https://img.example/prosba.png"
    for name, attribute in (
        ("img", "src"),
        ("img", "srcset"),
        ("source", "srcset"),
        ("input", "src"),
        ("embed", "src"),
        ("table", "background"),
        ("image", "href"),
        ("v:image", "src"),
    ):
        assert drawn_from_elsewhere(name, {attribute: address}) is not None, (name, attribute)


def test_text_read_beside_an_element() -> None:
    assert text_aside({"title": " a ", "aria-label": "b", "aria-description": "c"}) == "a b c"
    assert text_aside({"alt": "x", "class": "y"}) == ""
    rendered = render_html(f"<p>x</p><button aria-label='{REQUEST}'>OK</button>")
    assert fold(REQUEST) in fold(rendered.text)
