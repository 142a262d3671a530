"""The console's languages: which one a request gets, and its gettext catalogue.

The catalogues are the ``.po`` files under app/console/locale/<lang>/LC_MESSAGES/,
committed as written by ``pybabel`` (README, "The console in Polish and English"). They
are compiled in memory the first time a language is used (Babel reads the ``.po`` and
writes the ``.mo`` that gettext reads), so a fresh clone and an installed wheel work
alike, with no build step and no compiled file to keep in step with its source.

A request's language: the ``lang`` cookie set by the switch on every page, when it names
a language of ours; else the first language of ``Accept-Language`` we have (by its
q-value; ``pl-PL`` counts as ``pl``); else English.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

# English is the language the text is written in; Polish is the desk's.
LANGUAGES: Final = ("en", "pl")
DEFAULT: Final = "en"
LANG_COOKIE: Final = "lang"
# Each language's name in itself, as the switch offers it.
NAMES: Final = {"en": "English", "pl": "Polski"}
DOMAIN: Final = "console"
# More than anyone lists: the rest of a longer header is not read.
_MAX_RANGES: Final = 32


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language for a request: the switch's cookie, else Accept-Language, else English."""
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language or "") or DEFAULT


def from_accept_language(header: str) -> str | None:
    """The language of ours the header prefers most (RFC 9110 §12.5.4), None if none.

    Ranges with the same weight keep their order; ``q=0`` means "not this one"; a
    malformed weight counts as 0, so nothing unreadable is preferred.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and 0 < weight <= 1:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else None


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (one of LANGUAGES), compiled from its ``.po`` once."""
    if lang not in LANGUAGES:
        raise ValueError(f"the console has no language {lang!r}")
    source = resources.files("app.console").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    # Fuzzy entries are guesses pybabel made; gettext must not show them as translations.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translated(lang: str, message: str) -> str | None:
    """``message`` in ``lang`` when the catalogue translates it; None when it does not."""
    text = translations(lang).gettext(message)
    return text if text != message else None


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it is written; translated where shown."""
    return message
