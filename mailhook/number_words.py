"""A server's number written in words ("vps siedem siedem siedem siedem siedem")."""

from __future__ import annotations

import re2

from mailhook.text import fold

# Words for a server, then at most a word for "number", then a number word (folded):
# a digit, or a word a Polish or English numeral starts with ("siedemdziesiąt",
# "dwanaście", "seventy"). "jeden", "dwie" are whole words ("jednak" is "however").
_SERVER = r"\b(?:vps|srv|ded\w*|serw\w*|server\w*|maszyn\w*|machine\w*)"
_NUMBER = (
    r"(?:zero|jeden|jedna|jedno|dwa\w*|dwie\w*|trzy\w*|czter\w*|piec\w*|szesc\w*|siedem\w*"
    r"|osiem\w*|dziewiec\w*|dziesiec|sto|tysi\w*|one|two|three|four|five|six|seven\w*"
    r"|eight\w*|nine\w*|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|hundred"
    r"|thousand)\b"
)
# RE2: one pass over a whole text, which Python's engine would try at every position.
_SERVER_IN_WORDS = re2.compile(
    rf"{_SERVER}\W{{0,3}}(?:(?:nr|numer|number|no|id)\W{{1,3}})?{_NUMBER}"
)


def server_in_words(sentence: str) -> bool:
    """Whether ``sentence`` (as written, or folded) names a server by a number written in
    words: which server that is, no pattern of the catalogue reads; an agent does."""
    return _SERVER_IN_WORDS.search(fold(sentence)) is not None


def holds_server_in_words(folded: str) -> bool:
    """Whether a whole text, folded (mailhook.text.fold), holds one anywhere: a text that
    does not is not read for one sentence by sentence."""
    return _SERVER_IN_WORDS.search(folded) is not None
