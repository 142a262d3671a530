"""The console in Polish and English: the language each request gets, the switch, the
catalogues complete and current, and every check result explained in Polish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from markupsafe import escape

# Imports every module that declares a check run outside the mail pipeline.
import app.decision.rules  # noqa: F401
from app.console.explanations import DECISIONS, EXPLANATIONS, explanation
from app.console.i18n import LANG_COOKIE, LANGUAGES, choose, from_accept_language, translated
from app.console.refusals import DECISION_NAMES, SENTENCES, refusal
from app.decision.rules import load_rules
from app.decision.service import DecisionService
from app.errors import Conflict
from app.verdict_types import DECISIONS as VERDICT_DECISIONS
from mailhook.checks import declared
from tests.app.api.test_reviews import verdict as scenario
from tests.app.console.common import agent, csrf_of, held, log_in
from tests.support import TLS, LiveServer

REPO = Path(__file__).resolve().parents[3]
LOCALE = REPO / "app" / "console" / "locale"
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        pytest.param(None, None, "en", id="nothing said is English"),
        pytest.param(None, "pl", "pl", id="a Polish browser gets Polish"),
        pytest.param(
            None, "pl-PL,pl;q=0.9,en-US;q=0.8", "pl", id="a region counts as its language"
        ),
        pytest.param(None, "en-US,en;q=0.9,pl;q=0.8", "en", id="the first preferred wins"),
        pytest.param(None, "de-DE, pl;q=0.3, en;q=0.2", "pl", id="an unknown one is passed over"),
        pytest.param(None, "en;q=0.4, pl", "pl", id="weights count, not order"),
        pytest.param(None, "pl;q=0, en;q=0.1", "en", id="q=0 means not this one"),
        pytest.param(None, "pl;q=banana", "en", id="an unreadable weight prefers nothing"),
        pytest.param(None, "de, fr", "en", id="no language of ours falls back to English"),
        pytest.param(None, "*", "en", id="a wildcard is the default"),
        pytest.param("en", "pl", "en", id="the switch's cookie overrides the header"),
        pytest.param("pl", "en", "pl", id="either way"),
        pytest.param("xx", "pl", "pl", id="an unknown cookie is ignored"),
    ],
)
def test_the_language_of_a_request(cookie: str | None, header: str | None, expected: str) -> None:
    assert choose(cookie, header) == expected


def test_a_long_accept_language_is_read_only_so_far() -> None:
    assert from_accept_language(",".join(["de"] * 100 + ["pl"])) is None


def _source_messages() -> dict[str, tuple[str, ...]]:
    """Every msgid babel.cfg finds in the console's code and templates, and its
    placeholders."""
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        assert isinstance(message, str), message
        found[message] = tuple(sorted(_PLACEHOLDER.findall(message)))
    return found


def _catalogue(lang: str) -> dict[str, tuple[str, bool]]:
    with (LOCALE / lang / "LC_MESSAGES" / "console.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    return {m.id: (m.string, m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


def test_every_message_of_the_console_is_translated_into_polish_and_none_is_stale() -> None:
    source = _source_messages()
    # The templates and the Python side both count: a sample of each is found.
    assert {"Open verdicts", "Wrong login or password.", EXPLANATIONS["dmarc.reject"]} <= set(
        source
    )
    for lang in LANGUAGES:
        catalogue = _catalogue(lang)
        assert sorted(set(source) - set(catalogue)) == [], f"{lang}: run pybabel update (README)"
        assert sorted(set(catalogue) - set(source)) == [], f"{lang}: stale msgids"
    polish = _catalogue("pl")
    untranslated = [msgid for msgid, (text, fuzzy) in polish.items() if not text or fuzzy]
    assert untranslated == []
    for msgid, (text, _fuzzy) in polish.items():
        # The same placeholders, or formatting the translation fails (or shows less).
        assert tuple(sorted(_PLACEHOLDER.findall(text))) == source[msgid], msgid
    # Polish with its letters, not ASCII stand-ins.
    assert polish["Password"][0] == "Hasło"


def test_every_check_result_a_check_can_give_is_explained_in_polish() -> None:
    # The pipeline turns a result a check does not declare into "error" (declared, and
    # explained): so the declared results are every result a verdict can carry.
    results = {f"{name}.{result}" for name, d in declared().items() for result in d.results}
    assert sorted(results - set(EXPLANATIONS)) == [], "explain these in app/console/explanations.py"
    assert sorted(set(EXPLANATIONS) - results) == [], "no check gives these"
    for key, english in EXPLANATIONS.items():
        name, _, result = key.partition(".")
        polish = explanation("pl", name, result)
        assert polish and polish != english, key
        # English shows the check's own reason: the table is only the translators' source.
        assert explanation("en", name, result) is None
    for decision in DECISIONS.values():
        assert translated("pl", decision)


def test_every_refusal_an_agent_can_meet_has_a_sentence_and_every_sentence_a_refusal() -> None:
    raised: set[str] = set()
    for source in (REPO / "app").rglob("*.py"):
        raised |= set(re.findall(r'reason="([a-z-]+)"', source.read_text(encoding="utf-8")))
    assert sorted(raised ^ set(SENTENCES)) == []
    assert set(DECISION_NAMES) == set(VERDICT_DECISIONS)
    # A decision no sentence names is shown as written, never as the catalogue's header.
    odd = Conflict("x", reason="act-before-review", values={"decision": "unheard_of"})
    assert refusal(odd).startswith("This verdict is unheard_of and has not been accepted")
    known = Conflict("x", reason="act-before-review", values={"decision": "review"})
    assert refusal(known).startswith("This verdict is held for review and")


def test_every_kind_of_the_default_catalogue_has_a_polish_title() -> None:
    kinds = load_rules(REPO / "rules").catalogue.kinds
    assert {k.name: k.title_pl for k in kinds}["holder_change"] == "Zmiana abonenta domeny (cesja)"
    assert all(k.title_pl and k.title_pl != k.title for k in kinds)


@pytest.fixture
def client(live_api: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as browser:
        yield browser


def _lang_of(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page.text)
    assert found is not None, page.text[:200]
    return found.group(1)


def test_the_login_page_speaks_the_browsers_language_and_offers_the_other(
    client: httpx.Client, service: DecisionService
) -> None:
    polish = client.get("/console/login", headers={"Accept-Language": "pl-PL,pl;q=0.9"})
    assert _lang_of(polish) == "pl"
    assert "<h1>Zaloguj się</h1>" in polish.text and "Hasło" in polish.text
    assert 'href="/console/language?to=en&amp;back=%2Fconsole%2Flogin"' in polish.text
    english = client.get("/console/login", headers={"Accept-Language": "de, en;q=0.5"})
    assert _lang_of(english) == "en" and "<h1>Log in</h1>" in english.text
    assert "Polski" in english.text and "Zaloguj" not in english.text
    unknown = client.get("/console/login", headers={"Accept-Language": "fr"})
    assert _lang_of(unknown) == "en"
    # What the Python side says is translated too.
    agent(service)
    client.headers["Accept-Language"] = "pl"
    wrong = log_in(client, password="not the password")
    assert wrong.status_code == 401 and "Błędny login lub hasło." in wrong.text
    # The switch on a form's answer leads back to the form's page, empty.
    assert 'href="/console/language?to=en&amp;back=%2Fconsole%2Flogin"' in wrong.text


def test_the_switch_sets_a_cookie_that_overrides_the_header_and_goes_back(
    client: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    target = held(api)["id"]
    agent(service)
    assert log_in(client).status_code == 303
    client.headers["Accept-Language"] = "en"
    back = f"/console/verdicts/{target}"
    switched = client.get("/console/language", params={"to": "pl", "back": back})
    assert switched.status_code == 303 and switched.headers["location"] == back
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith(f"{LANG_COOKIE}=pl;") and "Path=/console/" in cookie
    page = client.get(back)
    assert _lang_of(page) == "pl" and "Sprawdzenia" in page.text
    assert client.get("/console/").text.count("Otwarte werdykty") == 1
    # Only a page of the console to go back to: anything else leads to the queue.
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/console/",
        "/v1/keys",
        "/console/\\x",
    ):
        response = client.get("/console/language", params={"to": "en", "back": elsewhere})
        assert response.headers["location"] == "/console/", elsewhere
    refused = client.get("/console/language", params={"to": "de"})
    assert refused.status_code == 400 and "set-cookie" not in refused.headers
    assert _lang_of(client.get("/console/")) == "en"


def test_the_queue_and_a_verdict_explain_the_checks_in_polish(
    client: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    waiting = held(api)
    coded = scenario(api, "otp_required")
    agent(service)
    assert log_in(client).status_code == 303
    for verdict in (waiting, coded):
        for check in verdict["checks"]:
            assert f"{check['name']}.{check['result']}" in EXPLANATIONS, check

    client.headers["Accept-Language"] = "pl"
    queue = client.get("/console/")
    assert queue.status_code == 200 and _lang_of(queue) == "pl"
    assert "Otwarte werdykty" in queue.text and "Open verdicts" not in queue.text
    # The held verdict's first reason is a check's: its Polish explanation is shown,
    # the English reason kept in the cell's title.
    first = next(c for c in waiting["checks"] if c["reason"] == waiting["reasons"][0])
    polish = explanation("pl", first["name"], first["result"])
    assert polish and _html(polish) in queue.text
    # A reason of the policy's own (not a check's) gives way to what its decision asks.
    assert re.search(
        r'<td class="reason" title="The message asks for [^"]*">Czeka na kod', queue.text
    )
    # The catalogue's Polish title of the kind.
    assert "Transfer domeny do innego rejestratora, kod AuthInfo" in queue.text

    page = client.get(f"/console/verdicts/{coded['id']}")
    assert _lang_of(page) == "pl"
    for heading in ("Sprawdzenia", "Koperta", "Wersja reguł", "Dlaczego"):
        assert heading in page.text
    assert "Czeka na kod jednorazowy" in page.text
    for check in coded["checks"]:
        explained = explanation("pl", check["name"], check["result"])
        assert explained and _html(explained) in page.text, check
        # The check's own reason stays beside it, marked as English.
        assert _html(check["reason"]) in page.text

    refused = client.post(
        f"/console/verdicts/{coded['id']}/review",
        data={"csrf": csrf_of(page), "reason": "Bez decyzji."},
    )
    assert refused.status_code == 400 and "Wybierz: zaakceptuj albo odrzuć." in refused.text
    back = urlencode({"to": "en", "back": f"/console/verdicts/{coded['id']}"})
    assert f'href="/console/language?{back.replace("&", "&amp;")}"' in refused.text

    client.headers["Accept-Language"] = "en"
    english = client.get(f"/console/verdicts/{coded['id']}")
    assert _lang_of(english) == "en" and "Checks" in english.text
    assert "Sprawdzenia" not in english.text and "Czeka na" not in english.text
    assert "Transfer of a domain out, AuthInfo code" in english.text
    for check in coded["checks"]:
        assert _html(check["reason"]) in english.text


def _html(text: str) -> str:
    return str(escape(text))


def test_the_desks_pages_and_their_refusals_speak_polish_with_the_switch(
    client: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    accepted = scenario(api, "accepted")["id"]
    postal = scenario(api, "postal_required")["id"]
    agent(service)
    assert log_in(client).status_code == 303
    client.headers["Accept-Language"] = "pl"
    pages = {
        "/console/verify": ("Zweryfikuj rozmówcę", "Co wolno agentowi", "telefon", "czat"),
        "/console/customers?login=acme": ("Ostatnie zmiany", "Weryfikacje", "firma"),
        f"/console/verdicts/{accepted}": ("Zapisz czynność", "Użyty kod jednorazowy", "Historia"),
        f"/console/verdicts/{postal}": ("Dokumenty pocztowe", "Podpisane lub opatrzone pieczęcią"),
    }
    for path, polish in pages.items():
        page = client.get(path)
        assert page.status_code == 200 and _lang_of(page) == "pl", path
        for text in (*polish, "Klienci", "Wyloguj"):
            assert text in page.text, (path, text)
        back = urlencode({"to": "en", "back": path})
        assert f'href="/console/language?{back.replace("&", "&amp;")}"' in page.text, path

    verify = client.get("/console/verify")
    wrong = client.post("/console/verify", data={"csrf": csrf_of(verify), "channel": "fax"})
    assert wrong.status_code == 400 and "Wybierz telefon albo czat." in wrong.text
    # The switch on the form's answer leads back to the form's page.
    assert 'href="/console/language?to=en&amp;back=%2Fconsole%2Fverify"' in wrong.text
    missing = client.get("/console/customers", params={"service": "nobody.example"})
    assert (
        missing.status_code == 404 and "Żaden klient nie ma usługi nobody.example." in missing.text
    )
    action = client.post(
        f"/console/verdicts/{accepted}/actions",
        data={"csrf": csrf_of(verify), "action": "", "details": "x", "login": "acme"},
    )
    assert action.status_code == 400
    assert "Nazwij czynność w jednym wierszu (od 1 do 100 znaków)." in action.text
    nothing = client.get("/console/verdicts/no-such-id")
    assert nothing.status_code == 404 and "Nie ma takiego werdyktu" in nothing.text
    assert "no-such-id" in nothing.text
    # Refusals of the records layer, in Polish too: a review of a final verdict, an action
    # before the documents came, an action for another customer.
    token = csrf_of(verify)
    final = client.post(
        f"/console/verdicts/{accepted}/review",
        data={"csrf": token, "decision": "rejected", "reason": "Pomyłka."},
    )
    assert final.status_code == 409
    assert "Stan werdyktu: przyjęty, to decyzja ostateczna." in final.text
    act = {"csrf": token, "action": "Zmiana rekordu DNS", "details": "x", "login": "acme"}
    early = client.post(f"/console/verdicts/{postal}/actions", data=act)
    assert early.status_code == 409
    assert "czeka na podpisane dokumenty pocztowe: zapisz je" in early.text
    other = client.post(f"/console/verdicts/{accepted}/actions", data={**act, "login": "beta"})
    assert other.status_code == 409 and "Ten werdykt dotyczy klienta acme, nie beta" in other.text
    assert "verdict " not in other.text.split("<main", 1)[-1]
