"""HTML as a client renders it: lines, quotes, inline tags, hidden text and links."""

from __future__ import annotations

from mailhook.htmltext import html_to_text
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
