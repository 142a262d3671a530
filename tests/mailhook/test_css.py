"""Whether CSS hides text: colours, sizes, rules of a style block."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(
    ("colour", "invisible"),
    [
        pytest.param("white", True, id="white"),
        pytest.param(" WhiteSmoke ", True, id="a near white name"),
        pytest.param("#fff", True, id="short hex"),
        pytest.param("#F5F5F5", True, id="near white hex"),
        pytest.param("#1234", False, id="short hex with opacity"),
        pytest.param("#12345600", True, id="hex fully transparent"),
        pytest.param("rgb(250, 250, 250)", True, id="near white rgb"),
        pytest.param("rgba(10, 10, 10, 0)", True, id="transparent rgba"),
        pytest.param("hsla(0, 0%, 0%, 0)", True, id="transparent hsla"),
        pytest.param("rgb(200, 250, 250)", False, id="light blue is seen"),
        pytest.param("#333", False, id="dark grey is seen"),
        pytest.param("rgb(x)", False, id="nonsense is not invisible"),
    ],
)
def test_invisible_colours(colour: str, invisible: bool) -> None:
    assert invisible_colour(colour) is invisible


@pytest.mark.parametrize(
    ("style", "hidden"),
    [
        pytest.param("display:none", True, id="display none"),
        pytest.param("font-size: 2px", True, id="two pixels"),
        pytest.param("font-size: 3px", False, id="three pixels are read"),
        pytest.param("font-size: 0.1em", True, id="a tenth of an em"),
        pytest.param("font-size: 80%", False, id="smaller type is read"),
        pytest.param("color:#123;background-color:#123", True, id="same as background"),
        pytest.param("color:#123;background-color:#fff", False, id="dark on white"),
        pytest.param("margin-left:-20px", False, id="a small negative margin"),
        pytest.param("opacity: 0.01", True, id="a hundredth opaque"),
        pytest.param("opacity:5%", True, id="five percent opaque"),
        pytest.param("opacity: 0.5", False, id="half opaque is read"),
        pytest.param("transform: scale(0.01, 0.01)", True, id="scaled to a hundredth"),
        pytest.param("", False, id="no style"),
    ],
)
def test_hiding_declarations(style: str, hidden: bool) -> None:
    assert hides(style) is hidden


def test_a_style_block_names_what_it_hides() -> None:
    css = ".a, #b, p.c { display: none } .d { color: red } @media print { .e { display:none } }"
    assert hidden_selectors(css) == ({"a", "b", "c"}, {"p"})


def test_text_drawn_by_rules() -> None:
    assert drawn_text("p::before { content: 'kod' } q::after { content: \"\" }") == ["kod"]


@pytest.mark.parametrize(
    ("css", "drawn"),
    [
        pytest.param("list-style-type: 'kod '", ["kod "], id="a list marker"),
        pytest.param('LIST-STYLE: "kod" inside', ["kod"], id="the shorthand, in capitals"),
        pytest.param("quotes: 'kod' '' \"x\" ''", ["kod", "x"], id="quotes"),
        pytest.param("symbols: 'a' 'b'; suffix: ' '", ["a", "b"], id="a counter style"),
        pytest.param("text-overflow: 'kod'", ["kod"], id="a cut line's end"),
        pytest.param("quotes: '„' '”'; list-style-type: '• '", [], id="marks alone ask nothing"),
        pytest.param("font-family: 'Calibri', sans-serif", [], id="a font's name is not drawn"),
        pytest.param("padding: 0; prefixed: 'x'", [], id="only whole property names"),
    ],
)
def test_strings_css_draws(css: str, drawn: list[str]) -> None:
    assert style_draws(css) == drawn


def test_drawn_text_holds_every_drawing_property() -> None:
    assert drawn_text("li { list-style: 'a' } p::after { content: 'b' }") == ["a", "b"]


def test_tags_a_style_block_draws() -> None:
    css = "script, div > style { display: block } title { display: none } * { DISPLAY: inline }"
    assert revealed_tags(css) == {"script", "style", "*"}
    assert revealed_tags("@media print { script { display: block } }") == set()
    assert shows("display:block") and not shows("display: none") and not shows("")


@pytest.mark.parametrize(
    ("style", "hidden"),
    [
        pytest.param("transform: scaleX(-1)", True, id="mirrored"),
        pytest.param("transform: rotate(180deg)", True, id="turned over"),
        pytest.param("transform:matrix(-1, 0, 0, 1, 0, 0)", True, id="a mirroring matrix"),
        pytest.param("transform: rotate(5deg)", False, id="a slight tilt is read"),
        pytest.param("transform: scale(1.2)", False, id="larger type is read"),
    ],
)
def test_text_drawn_mirrored_is_hidden(style: str, hidden: bool) -> None:
    assert hides(style) is hidden


def test_a_rule_drawing_right_to_left_hides_what_it_names() -> None:
    css = ".r { unicode-bidi: bidi-override; direction: rtl } .l { direction: rtl }"
    assert hidden_selectors(css) == ({"r"}, set())


def test_what_a_style_block_draws_from_elsewhere() -> None:
    assert drawn_elsewhere("p { color: red } @font-face { font-family: X }") == []
    assert drawn_elsewhere("@import 'a.css'; p { background: url( \"data:image/png,x\") }") == [
        "an image in its CSS",
        "a style sheet it loads",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "counter(item) 'kod AuthInfo'",
        'open-quote "kod AuthInfo"',
        "url(x.png) 'kod AuthInfo'",
        "'kod AuthInfo'",
    ],
)
def test_every_string_of_generated_content_is_drawn_text(value: str) -> None:
    # Metamorphic: the same string after whatever comes before it in the value.
    assert drawn_text(f"li::before {{ content: {value} }}") == ["kod AuthInfo"]
