"""The confirmation page in a real browser: Debian's headless Chromium, JavaScript off,
driven by Selenium through Debian's chromedriver (installed by .ci/peers.sh)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from app.decision.service import DecisionService
from tests.app.delivery.test_alerts import Sink
from tests.app.delivery.test_webhooks import Clock
from tests.app.records.confirming import (
    ask,
    confirmations_on,
    link_in,
    mail_worker,
    register_ola,
)
from tests.browser import start_chromium
from tests.support import LiveServer


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    # The page must work without JavaScript: the browser runs none.
    driver = start_chromium("900,900", javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


@pytest.fixture
def confirming(service: DecisionService, live_api: LiveServer) -> Iterator[DecisionService]:
    live_api.server.config.app.state.confirm_throttle = None
    with confirmations_on(service):
        yield service


def mailed(
    api: httpx.Client, service: DecisionService, sink: Sink, live_api: LiveServer, n: int
) -> tuple[str, str]:
    verdict = ask(api, n)
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    mail_worker(service, sink, Clock(), live_api.url).run_once()
    url, _ = link_in(sink.messages()[-1])
    return verdict["id"], url


def current(api: httpx.Client, verdict_id: str) -> str:
    decision: str = api.get(f"/v1/verdicts/{verdict_id}/reviews").json()["current_decision"]
    return decision


def answer_in_browser(browser: webdriver.Chrome, url: str, button: str) -> str:
    """Open the link, press ``button`` (confirm or deny); the page text it leads to."""
    browser.get(url)
    browser.find_element(By.CSS_SELECTOR, f'button[name="answer"][value="{button}"]').click()
    # The answer's page has no form left.
    WebDriverWait(browser, 20).until(
        lambda b: not b.find_elements(By.CSS_SELECTOR, 'button[name="answer"]')
    )
    text: str = browser.find_element(By.TAG_NAME, "body").text
    return text


def test_the_owner_answers_in_a_real_browser(
    api: httpx.Client,
    confirming: DecisionService,
    sink: Sink,
    live_api: LiveServer,
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    register_ola(api)
    confirmed_id, confirm_url = mailed(api, confirming, sink, live_api, 1)
    denied_id, deny_url = mailed(api, confirming, sink, live_api, 2)

    browser.get(confirm_url)
    assert browser.title == "Potwierdzenie / Confirmation"
    page = browser.find_element(By.TAG_NAME, "body").text
    assert confirmed_id in page and "Duplicate of an invoice" in page and "no-dmarc.pl" in page
    screenshot = tmp_path / "confirmation-page.png"
    assert browser.save_screenshot(str(screenshot))
    print(f"screenshot of the confirmation page: {screenshot}")
    # Opening it (twice) decided nothing.
    browser.get(confirm_url)
    assert current(api, confirmed_id) == "confirmation_required"

    done = answer_in_browser(browser, confirm_url, "confirm")
    assert "Confirmed" in done and confirmed_id in done
    assert current(api, confirmed_id) == "accepted"
    # Back in history, pressing again: the link is used.
    browser.get(confirm_url)
    assert "already answered" in browser.find_element(By.TAG_NAME, "body").text

    done = answer_in_browser(browser, deny_url, "deny")
    assert "Denied: not you" in done
    assert current(api, denied_id) == "rejected"
    assert current(api, confirmed_id) == "accepted"

    # Nothing on the page was blocked by its own Content-Security-Policy.
    blocked = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == []
    # INTAKEGUARD_DOCS_SCREENSHOT=docs/confirmation-page.png renews README's picture.
    if os.environ.get("INTAKEGUARD_DOCS_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["INTAKEGUARD_DOCS_SCREENSHOT"])
