"""HTML as a client renders it: lines, quotes, inline tags, hidden text and links."""

from __future__ import annotations

import pytest

from mailhook.htmltext import html_to_text, render_html
from mailhook.text import fold, without_quotes


def test_converts_an_html_only_message_to_text() -> None:
    html = (
        "<html><head><title>Re: acme.pl</title><style>p { color: red }</style></head>"
        "<body><p>Prosz&#281; o <b>kod&nbsp;AuthInfo</b> dla acme.pl</p>"
        "<script>alert('x')</script><!-- a comment --><div>Jan &amp; Anna</div></body></html>"
    )
    text = html_to_text(html)
    assert "<" not in text
    assert "alert" not in text
    assert "color" not in text
    assert "Re: acme.pl" not in text
    assert "comment" not in text
    assert fold(text) == "prosze o kod authinfo dla acme.pl jan & anna"
    # Paragraphs stay lines of their own.
    lines = [fold(line) for line in text.splitlines() if line.strip()]
    assert lines == ["prosze o kod authinfo dla acme.pl", "jan & anna"]


def test_html_quotes_become_quoted_lines() -> None:
    # A one-line HTML reply: what the sender wrote is kept, the quoted original is not.
    html = (
        "<div>Pytanie o fakture</div><div class=quote>W dniu 1.12 napisano:"
        "<blockquote><div>Prosze o kod AuthInfo</div><blockquote>starsze</blockquote>"
        "</blockquote></div>"
    )
    text = html_to_text(html)
    assert "> Prosze o kod AuthInfo" in text
    assert "> > starsze" in text
    kept = fold(without_quotes(text))
    assert kept == "pytanie o fakture w dniu 1.12 napisano:"


def test_hostile_html_is_converted_in_bounded_time() -> None:
    for source in ("<script " * 200_000, "<blockquote>" * 100_000, "<" * 1_000_000):
        assert isinstance(html_to_text(source), str)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("trans<span>fer</span>", "transfer", id="span joins a word"),
        pytest.param("Auth<b>Info</b>", "AuthInfo", id="bold joins a word"),
        pytest.param(
            "<i>a</i><u>b</u><em>c</em><strong>d</strong><font>e</font><a href=x>f</a>"
            "<small>g</small><sup>h</sup><sub>i</sub><code>j</code><mark>k</mark><s>l</s>"
            "<ins>m</ins><del>n</del><abbr>o</abbr>",
            "abcdefghijklmno",
            id="every inline tag joins",
        ),
        pytest.param("trans<!-- x -->fer", "transfer", id="a comment joins"),
        pytest.param("trans&shy;fer &#x61;&#98;", "transfer ab", id="entities decode"),
        pytest.param("a<p>b</p>c<div>d</div>e<br>f", "a\nb\nc\nd\ne\nf", id="blocks break"),
        pytest.param("<td>a</td><td>b</td>", " a  b ", id="table cells are spaced"),
    ],
)
def test_html_renders_as_a_client_shows_it(html: str, text: str) -> None:
    assert render_html(html).text == text


@pytest.mark.parametrize(
    ("html", "hidden"),
    [
        pytest.param('<p style="display:none">x</p>', "x", id="display none"),
        pytest.param('<p style="DISPLAY: NONE !important">x</p>', "x", id="display none loud"),
        pytest.param('<p style="visibility:hidden">x</p>', "x", id="visibility hidden"),
        pytest.param('<p style="font-size:0px">x</p>', "x", id="font size 0"),
        pytest.param('<p style="font-size:1px">x</p>', "x", id="font size 1px"),
        pytest.param('<p style="font-size:0.1em">x</p>', "x", id="font size a tenth of an em"),
        pytest.param('<p style="color:#fff">x</p>', "x", id="white by hex"),
        pytest.param('<p style="color:rgb(255, 255, 255)">x</p>', "x", id="white by rgb"),
        pytest.param('<p style="color:transparent">x</p>', "x", id="transparent"),
        pytest.param('<font color="white">x</font>', "x", id="a white font"),
        pytest.param('<p style="opacity: 0">x</p>', "x", id="opacity 0"),
        pytest.param('<p style="color:red;background:red">x</p>', "x", id="same as background"),
        pytest.param("<p hidden>x</p>", "x", id="hidden attribute"),
        pytest.param("<template>x</template>", "x", id="template"),
        pytest.param('<p style="mso-hide:all">x</p>', "x", id="outlook hide"),
        pytest.param(
            "<head><style>#h, .a {display:none}</style></head><p id=h>x</p><p class='b a'>y</p>",
            "xy",
            id="id and class hidden by a style block",
        ),
        pytest.param(
            '<div style="display:none"><div>x</div>y</div>z', "xy", id="nested ends with its own"
        ),
        pytest.param('<p style="color:#fefefe">x</p>', "x", id="near white"),
        pytest.param('<p style="color:rgba(0,0,0,0)">x</p>', "x", id="transparent black"),
        pytest.param('<p style="color:#00000000">x</p>', "x", id="transparent by hex"),
        pytest.param('<font color="#FFF">x</font>', "x", id="a white font by hex"),
        pytest.param(
            '<p style="position:absolute;left:-9999px">x</p>', "x", id="moved off the screen"
        ),
        pytest.param('<p style="text-indent:-5000px">x</p>', "x", id="indented out of sight"),
        pytest.param(
            '<p style="height:0;overflow:hidden">x</p>', "x", id="a box of no height that clips"
        ),
        pytest.param('<p style="transform:scale(0)">x</p>', "x", id="scaled to nothing"),
        pytest.param("<style>span { display:none }</style><span>x</span>", "x", id="a tag rule"),
        pytest.param(
            "<style>div .a > b.c {visibility:hidden}</style><b class=c>x</b><i class=a>y</i>",
            "x",
            id="only the last compound of a selector is hidden",
        ),
        pytest.param(
            "<!--[if mso]><p>x</p><![endif]--><!--[if !mso]><!--><p>y</p><!--<![endif]-->",
            "x",
            id="text only outlook shows",
        ),
        pytest.param(
            "<style>@media (prefers-color-scheme: dark) { body { color: #fff } }</style>"
            "<body><p>x</p></body>",
            "",
            id="a dark mode rule hides nothing",
        ),
        pytest.param(
            "<!--[if gte mso 9]><xml><o:PixelsPerInch>96</o:PixelsPerInch></xml><![endif]-->",
            "",
            id="outlook settings are no text",
        ),
        pytest.param('<p style="height:0">x</p>', "", id="no height without clipping shows"),
        pytest.param('<p style="font-size:14px;color:#333">x</p>', "", id="visible styles"),
        pytest.param('<p style="opacity:0.9;background-color:#fff">x</p>', "", id="opaque"),
        pytest.param("<p>x</p><style>.h{display:none}</style>", "", id="a style hiding none"),
    ],
)
def test_hidden_text_is_read_and_reported(html: str, hidden: str) -> None:
    rendered = render_html(html)
    assert rendered.hidden == hidden
    for char in hidden:
        assert char in rendered.text


def test_links_are_kept() -> None:
    rendered = render_html(
        "<a href=\"https://beta.pl/x\">acme.pl</a> <a href='mailto:o@c.pl'>Ola</a> <a name=x>"
    )
    assert rendered.links == ("https://beta.pl/x", "mailto:o@c.pl")


def test_unclosed_hiding_tags_cost_linear_work() -> None:
    # Each element is pushed and popped once: closing tags never scan the whole stack.
    source = '<span style="display:none">' * 50_000 + "x" + "</div>" * 50_000
    assert render_html(source).hidden == "x"


def test_the_text_of_an_image_is_read() -> None:
    # Most clients show alt text until images are loaded.
    assert render_html('<p>Proszę o <img alt="transfer domeny" src="cid:x"></p>').text == (
        "\nProszę o  transfer domeny  \n"
    )


def test_text_drawn_by_css_is_read_and_hidden() -> None:
    rendered = render_html(
        "<style>p.x::after { content: 'kod AuthInfo' }</style><p class=x>Faktura</p>"
    )
    assert rendered.hidden == "kod AuthInfo"
    assert rendered.text.endswith("kod AuthInfo")


@pytest.mark.parametrize(
    "html",
    [
        '<p style="unicode-bidi:bidi-override;direction:rtl">lp.ateb ofnIhtuA dok</p>',
        '<div><bdo dir="rtl">lp.ateb ofnIhtuA dok</bdo></div>',
    ],
)
def test_a_block_drawn_right_to_left_is_read_as_drawn(html: str) -> None:
    # The override goes after the line break the block starts with, or it reverses nothing.
    assert fold(html_to_text("<p>Faktura</p>" + html)) == "faktura kod authinfo beta.pl"
