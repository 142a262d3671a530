"""Pages in the language of the request: which one it is, and the templates in it.

The language is chosen once per request (choose_language, a dependency of the console's
router) and kept in a context variable, so a route renders and translates without
passing it around: FastAPI awaits an async dependency in the route's own context.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from app.console import i18n
from app.console.explanations import (
    DECISIONS,
    decision_explanation,
    explanation,
    reason_check,
)


@dataclass(frozen=True, slots=True)
class Speech:
    """The language a request is answered in, and the page it asked for (for the switch)."""

    lang: str
    here: str

    def gettext(self, message: str) -> str:
        return i18n.translations(self.lang).gettext(message)


# Set for each request by choose_language, before its route runs (FastAPI awaits an async
# dependency in the route's own context); English for what runs outside a request.
_SPEECH: ContextVar[Speech | None] = ContextVar("console_speech", default=None)
_NO_REQUEST: Final = Speech(i18n.DEFAULT, "/console/")
# The forms posted to the URL of the page they are on (a GET of it shows the form).
_FORMS_ON_THEIR_PAGE: Final = frozenset({"/console/login", "/console/verify"})


def speech() -> Speech:
    return _SPEECH.get() or _NO_REQUEST


async def choose_language(request: Request) -> None:
    """The request's language (app/console/i18n.py), and where the switch leads back."""
    lang = i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language")
    )
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        # A form's answer (an error shown after a POST): back to the page the form is on,
        # empty. /console/verify is that page itself; /console/verdicts/{id} is the page
        # of .../review, whose own URL takes no GET.
        path = request.url.path
        parent = path.rsplit("/", 1)[0]
        if path in _FORMS_ON_THEIR_PAGE:
            here = path
        else:
            here = parent if parent.startswith("/console/") else "/console/"
    _SPEECH.set(Speech(lang, here))


def gettext(message: str) -> str:
    """``message`` in the language of the request being answered."""
    return speech().gettext(message)


def age(seconds: float) -> str:
    """How long ago, as a person says it: 45 s, 12 min, 3 h 20 min, 2 d 4 h."""
    whole = int(seconds)
    if whole < 60:
        return f"{max(whole, 0)} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


@pass_context
def _explain(context: Context, name: str, result: str) -> str | None:
    """What a check's result means in the page's language; None: its own reason alone."""
    return explanation(context["lang"], name, result)


@pass_context
def _explain_decision(context: Context, decision: str) -> str | None:
    """What a decision asks of the desk in the page's language; None: not translated."""
    return decision_explanation(context["lang"], decision)


@pass_context
def _explain_reason(context: Context, reason: str, checks: list[Any]) -> str | None:
    """A verdict's reason explained like the check it comes from; None for the policy's."""
    found = reason_check(reason, checks)
    return explanation(context["lang"], *found) if found is not None else None


@cache
def _templates(lang: str) -> Environment:
    """The templates in ``lang``: one environment a language, its catalogue installed."""
    environment = Environment(
        loader=PackageLoader("app.console", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: a translation is markup-safe, and what is put into it is escaped. Only
    # the catalogue's own text may go through _() in a template, never a message's.
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(lang), newstyle=True
    )
    environment.filters["age"] = age
    environment.globals.update(
        explain=_explain, explain_reason=_explain_reason, explain_decision=_explain_decision
    )
    return environment


def page(template: str, **context: Any) -> str:
    """``template`` rendered in the request's language, with the switch to the others."""
    now = speech()
    switch = [
        (lang, i18n.NAMES[lang], "/console/language?" + urlencode({"to": lang, "back": now.here}))
        for lang in i18n.LANGUAGES
        if lang != now.lang
    ]
    return (
        _templates(now.lang)
        .get_template(template)
        .render(lang=now.lang, switch=switch, decisions_explained=DECISIONS, **context)
    )
