"""The console in a real browser: Debian's headless Chromium driven by Selenium through
Debian's chromedriver (.ci/peers.sh ensure_chromium), on both databases.

JavaScript is on here, unlike for the owner's page: the console needs none, so a script
that ran could only be one a message smuggled in, and the test must be able to see it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from app.console.agents import disable_agent
from app.db.types import utcnow
from app.decision.service import DecisionService
from tests.app.api.common import NIP
from tests.app.api.test_reviews import verdict as scenario
from tests.app.console.common import PASSWORD, agent, held, log_in
from tests.browser import start_chromium
from tests.support import TLS, LiveServer

# Set to a directory (docs) to renew README's pictures of the console.
SCREENSHOTS = "INTAKEGUARD_DOCS_SCREENSHOTS"


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_chromium("1280,900", javascript=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome, live_api: LiveServer) -> webdriver.Chrome:
    """The browser, logged out (its cookies for the test server dropped)."""
    chromium.get(f"{live_api.url}/console/static/console.css")
    chromium.delete_all_cookies()
    chromium.get_log("browser")
    return chromium


class Marker:
    """A loopback HTTP server that counts the requests a smuggled script or style made."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        seen = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def marker() -> Iterator[Marker]:
    server = Marker()
    yield server
    server.close()


def text_of(browser: webdriver.Chrome) -> str:
    try:
        text: str = browser.find_element(By.TAG_NAME, "body").text
    except WebDriverException as exc:
        # The page a click leads to replaced the one being read: Chromium reports it as an
        # inspector error, not as a stale element. A wait reads the new page again.
        if "does not belong to the document" not in str(exc):
            raise
        raise StaleElementReferenceException(str(exc)) from exc
    return text


def wait(browser: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    """Until a condition holds on the page a click leads to, which may still be loading."""
    return WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,))


def shows(browser: webdriver.Chrome, words: str) -> None:
    """Wait for the page the last click leads to, until it shows ``words``."""
    wait(browser).until(lambda b: words in text_of(b))


def shot(browser: webdriver.Chrome, tmp_path: Path, name: str, docs: bool = True) -> None:
    """The whole page as ``name`` (README's pictures are the ``docs`` ones)."""
    # From the top, even when the page was opened at an anchor (…#history).
    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(int(height) + 120, 600), 4000))
    picture = tmp_path / name
    try:
        assert browser.save_screenshot(str(picture))
    finally:
        browser.set_window_size(1280, 900)
    print(f"screenshot: {picture}")
    directory = os.environ.get(SCREENSHOTS)
    if directory and docs:
        Path(directory, name).write_bytes(picture.read_bytes())


def no_alert(browser: webdriver.Chrome) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the question


def log_in_browser(browser: webdriver.Chrome, live_api: LiveServer, login: str) -> None:
    """Log ``login`` in through the login form, to the queue."""
    browser.get(f"{live_api.url}/console/login")
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(browser).until(lambda b: b.title.startswith("Queue"))


def review_in_browser(
    browser: webdriver.Chrome, verdict_id: str, decision: str, reason: str
) -> None:
    """From the queue, open the verdict, choose ``decision``, give ``reason``, record it."""
    browser.find_element(By.CSS_SELECTOR, f'a[href="/console/verdicts/{verdict_id}"]').click()
    wait(browser).until(lambda b: verdict_id in b.title)
    browser.find_element(By.CSS_SELECTOR, f'input[name="decision"][value="{decision}"]').click()
    browser.find_element(By.ID, "reason").send_keys(reason)
    browser.find_element(By.CSS_SELECTOR, "form.review button[type=submit]").click()
    wait(browser).until(lambda b: not b.find_elements(By.CSS_SELECTOR, "form.review"))


def test_an_agent_logs_in_works_the_queue_and_reviews_in_a_real_browser(
    api: httpx.Client,
    service: DecisionService,
    live_api: LiveServer,
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    agent(service, "ola.nowak", name="Ola Nowak")
    to_accept = held(api, "Prosze o kontakt")["id"]
    to_reject = scenario(api, "otp_required")["id"]

    browser.get(f"{live_api.url}/console/")
    assert browser.current_url == f"{live_api.url}/console/login"
    shot(browser, tmp_path, "console-login.png")
    browser.find_element(By.ID, "login").send_keys("ola.nowak")
    browser.find_element(By.ID, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    shows(browser, "Wrong login or password")
    browser.find_element(By.ID, "login").send_keys("ola.nowak")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait(browser).until(lambda b: b.title.startswith("Queue"))
    queue = text_of(browser)
    assert to_accept in queue and to_reject in queue and "Ola Nowak (ola.nowak, agent)" in queue
    assert "otp_required" in queue and "acme.pl" in queue
    shot(browser, tmp_path, "console-queue.png")

    browser.find_element(By.CSS_SELECTOR, f'a[href="/console/verdicts/{to_reject}"]').click()
    wait(browser).until(lambda b: to_reject in b.title)
    page = text_of(browser)
    assert "Checks" in page and "Envelope" in page and "Kod authinfo dla acme.pl" in page
    assert "Rules version" in page and "recorded as ola.nowak" in page
    shot(browser, tmp_path, "console-verdict.png")
    browser.back()
    wait(browser).until(lambda b: b.title.startswith("Queue"))

    review_in_browser(browser, to_accept, "accepted", "Called the owner back; confirmed.")
    assert "Called the owner back; confirmed." in text_of(browser)
    browser.find_element(By.LINK_TEXT, "Queue").click()
    wait(browser).until(lambda b: b.title.startswith("Queue"))
    review_in_browser(browser, to_reject, "rejected", "The owner knows nothing of it.")

    for verdict_id, decision, reason in (
        (to_accept, "accepted", "Called the owner back; confirmed."),
        (to_reject, "rejected", "The owner knows nothing of it."),
    ):
        state = api.get(f"/v1/verdicts/{verdict_id}/reviews").json()
        assert state["current_decision"] == decision
        assert [(r["agent"], r["reason"]) for r in state["reviews"]] == [("ola.nowak", reason)]
    browser.find_element(By.LINK_TEXT, "Queue").click()
    shows(browser, "Nothing waits")

    # Nothing on any page was blocked by the page's own policy: it needs no exception.
    blocked = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == []

    browser.find_element(By.CSS_SELECTOR, "header form button").click()
    wait(browser).until(lambda b: b.current_url.endswith("/console/login"))
    browser.get(f"{live_api.url}/console/verdicts/{to_accept}")
    assert browser.current_url == f"{live_api.url}/console/login"


def test_a_hostile_message_is_shown_as_text_and_nothing_in_it_runs(
    api: httpx.Client,
    service: DecisionService,
    live_api: LiveServer,
    browser: webdriver.Chrome,
    marker: Marker,
    tmp_path: Path,
) -> None:
    agent(service)
    script = f"<script>fetch('{marker.url}/script');alert('script')</script>"
    image = f"<img src=x onerror=\"fetch('{marker.url}/img');alert('img')\">"
    link = "<a href=\"javascript:alert('link')\">open me</a>"
    style = f"<style>body{{background:url({marker.url}/css)}}</style>"
    hostile = held(
        api,
        f"Pilne {image}{script}",
        sender=f'"{script}" <nobody@else.example>',
        body=f"Prosze.\n{script}\n{image}\n{link}\n{style}\n",
        reply_to=f'"{image}" <other@else.example>',
    )["id"]
    log_in_browser(browser, live_api, "ola")
    no_alert(browser)
    browser.find_element(By.CSS_SELECTOR, f'a[href="/console/verdicts/{hostile}"]').click()
    wait(browser).until(lambda b: hostile in b.title)
    no_alert(browser)
    page = text_of(browser)
    # Shown literally: the From display name, the Subject, Reply-To and the text.
    for piece in (script, image, link, style):
        assert piece in page, piece
    assert f"Pilne {image}{script}" in page
    main = browser.find_element(By.TAG_NAME, "main")
    for tag in ("script", "img", "style", "a[href^='javascript']"):
        assert main.find_elements(By.CSS_SELECTOR, tag) == [], tag
    shot(browser, tmp_path, "console-hostile.png", docs=False)
    # Give anything that slipped through time to call home: nothing did.
    WebDriverWait(browser, 1, poll_frequency=0.2).until(lambda b: True)
    assert marker.paths == []
    no_alert(browser)


def test_a_form_with_another_sessions_token_is_refused_in_the_browser(
    api: httpx.Client,
    service: DecisionService,
    live_api: LiveServer,
    browser: webdriver.Chrome,
) -> None:
    agent(service)
    agent(service, "jan")
    target = held(api)["id"]
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as other:
        assert log_in(other, "jan").status_code == 303
        page = other.get(f"/console/verdicts/{target}").text
        theirs = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    log_in_browser(browser, live_api, "ola")
    browser.get(f"{live_api.url}/console/verdicts/{target}")
    for token in (theirs, ""):
        browser.execute_script(
            "document.querySelector('form.review input[name=csrf]').value = arguments[0]", token
        )
        browser.find_element(By.CSS_SELECTOR, 'input[name="decision"][value="accepted"]').click()
        browser.find_element(By.ID, "reason").send_keys("Forged.")
        browser.find_element(By.CSS_SELECTOR, "form.review button[type=submit]").click()
        shows(browser, "Form refused")
        browser.back()
        wait(browser).until(lambda b: target in b.title)
    assert api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"] == []


def test_the_desk_procedure_by_phone_in_a_real_browser(
    browser: webdriver.Chrome,
    live_api: LiveServer,
    api: httpx.Client,
    service: DecisionService,
    tmp_path: Path,
) -> None:
    """A phone verification to authorized with a real code, an action resting on it,
    postal documents, a customer looked up by service; each checked through the REST API."""
    agent(service, "ola.nowak", name="Ola Nowak")
    to_act_on = scenario(api, "accepted")["id"]
    postal = scenario(api, "postal_required")["id"]
    code = api.post("/v1/customers/acme/codes").json()["code"]
    log_in_browser(browser, live_api, "ola.nowak")

    browser.find_element(By.LINK_TEXT, "Verify a caller").click()
    wait(browser).until(lambda b: b.title.startswith("Verify a caller"))
    browser.find_element(By.CSS_SELECTOR, 'input[name="channel"][value="phone"]').click()
    browser.find_element(By.ID, "service").send_keys("acme.pl")
    Select(browser.find_element(By.ID, "identifier_kind")).select_by_value("nip")
    browser.find_element(By.ID, "identifier").send_keys(NIP)
    browser.find_element(By.ID, "login").send_keys("acme")
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "form.verify button[type=submit]").click()
    shows(browser, "Stage reached")
    assert browser.find_element(By.ID, "stage").text == "authorized"
    assert "the agent may make the change asked for" in text_of(browser)
    # Neither the NIP nor the code is in the page, nor in any field of the form.
    for secret in (NIP, code, code.replace("-", "")):
        assert secret not in browser.page_source
    used_by = browser.find_element(By.CSS_SELECTOR, "code.verification-id").text
    shot(browser, tmp_path, "console-verify.png")

    browser.get(f"{live_api.url}/console/verdicts/{to_act_on}")
    wait(browser).until(lambda b: to_act_on in b.title)
    assert browser.find_element(By.ID, "login").get_attribute("value") == "acme"
    browser.find_element(By.ID, "action").send_keys("authinfo_sent")
    browser.find_element(By.ID, "details").send_keys("AuthInfo sent to the panel address.")
    browser.find_element(By.ID, "code_ref").send_keys(used_by)
    browser.find_element(By.CSS_SELECTOR, "form.action button[type=submit]").click()
    shows(browser, "Action: authinfo_sent")
    shot(browser, tmp_path, "console-action.png")

    browser.get(f"{live_api.url}/console/verdicts/{postal}")
    wait(browser).until(lambda b: postal in b.title)
    for box in ("name", "address", "signature_or_stamp"):
        browser.find_element(By.CSS_SELECTOR, f'form.documents input[name="{box}"]').click()
    browser.find_element(By.ID, "note").send_keys("Received by registered post, stamped.")
    shot(browser, tmp_path, "console-documents.png")
    browser.find_element(By.CSS_SELECTOR, "form.documents button[type=submit]").click()
    shows(browser, "Postal documents: complete")

    browser.find_element(By.LINK_TEXT, "Customers").click()
    wait(browser).until(lambda b: b.title.startswith("Customers"))
    browser.find_element(By.ID, "service").send_keys("acme.pl")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    shows(browser, "ACME sp. z o.o.")
    page = text_of(browser)
    assert "j***@a***.pl" in page and "authinfo_sent" in page and used_by in page
    # An agent (not a lead) never has the whole panel address, not even in the source.
    assert "jan@acme.pl" not in browser.page_source
    shown_services = browser.find_element(By.CSS_SELECTOR, "dd.services").text
    shot(browser, tmp_path, "console-customers.png")

    # Each through the REST API: the action under the logged-in agent, resting on the
    # verification's use of the code; the documents completing the verdict; the holder.
    actions = api.get(f"/v1/verdicts/{to_act_on}/actions").json()
    assert [(a["agent"], a["action"], a["login"], a["code_ref"]) for a in actions] == [
        ("ola.nowak", "authinfo_sent", "acme", used_by)
    ]
    assert api.get(f"/v1/verdicts/{postal}/reviews").json()["current_decision"] == "accepted"
    # The holder shown is the one the registry has, with the same services.
    held_services = [s["name"] for s in api.get("/v1/customers/acme").json()["services"]]
    assert shown_services == ", ".join(held_services)
    assert api.get("/v1/audit/verify").json()["intact"] is True
    blocked = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == []


def test_a_lead_sees_the_whole_address_and_a_disabled_agents_session_ends(
    api: httpx.Client,
    service: DecisionService,
    live_api: LiveServer,
    browser: webdriver.Chrome,
) -> None:
    agent(service, "ewa", role="lead")
    scenario(api, "accepted")
    log_in_browser(browser, live_api, "ewa")
    browser.get(f"{live_api.url}/console/customers?login=acme")
    assert "jan@acme.pl" in text_of(browser)
    with service.sessions.begin() as session:
        disable_agent(session, "ewa", utcnow())
    browser.find_element(By.LINK_TEXT, "Customers").click()
    wait(browser).until(lambda b: b.current_url.endswith("/console/login"))
    browser.get(f"{live_api.url}/console/customers?login=acme")
    assert browser.current_url.endswith("/console/login")
    assert "jan@acme.pl" not in browser.page_source


def test_the_switch_turns_the_console_polish_in_a_real_browser(
    api: httpx.Client,
    service: DecisionService,
    live_api: LiveServer,
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    agent(service, "ola.nowak", name="Ola Nowak")
    waiting = held(api, "Prosze o kontakt")["id"]
    coded = scenario(api, "otp_required")["id"]
    log_in_browser(browser, live_api, "ola.nowak")

    browser.find_element(By.LINK_TEXT, "Polski").click()
    wait(browser).until(lambda b: b.title.startswith("Kolejka"))
    assert browser.current_url == f"{live_api.url}/console/"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pl"
    queue = text_of(browser)
    assert "Otwarte werdykty" in queue and waiting in queue and coded in queue
    assert "Transfer domeny do innego rejestratora, kod AuthInfo" in queue
    shot(browser, tmp_path, "console-queue-pl.png")

    browser.find_element(By.CSS_SELECTOR, f'a[href="/console/verdicts/{coded}"]').click()
    wait(browser).until(lambda b: coded in b.title)
    page = text_of(browser)
    assert "Sprawdzenia" in page and "Koperta" in page and "Czeka na kod jednorazowy" in page
    shot(browser, tmp_path, "console-verdict-pl.png", docs=False)
    # The cookie outlives the page: back in English only when switched back.
    browser.find_element(By.LINK_TEXT, "English").click()
    wait(browser).until(lambda b: coded in b.title and "Checks" in text_of(b))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
