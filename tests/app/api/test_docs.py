"""/docs: Swagger UI from this service's own files, on a network without the internet."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.app.console.test_console_browser import chromium  # noqa: F401 (fixture by name)
from tests.support import LiveServer

_REFERENCE = re.compile(r'(?:src|href)="([^"]*)"')
_SCRIPT_URL = re.compile(r'url:\s*"([^"]*)"')


def test_docs_refer_only_to_this_origin_and_every_asset_answers(
    anonymous: httpx.Client,
) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    references = _REFERENCE.findall(page.text)
    assert len(references) == 4, references
    for url in references:
        # Same origin: a path on this server, never another host or scheme.
        assert url.startswith("/") and not url.startswith("//"), url
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
        if url.endswith(".js"):
            assert asset.headers["content-type"].startswith("text/javascript"), url
    init = anonymous.get("/docs/static/init.js").text
    assert _SCRIPT_URL.findall(init) == ["/openapi.json"]
    assert "validatorUrl: null" in init
    assert anonymous.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect", "/docs/static/LICENSE"])
def test_what_is_not_served(anonymous: httpx.Client, path: str) -> None:
    assert anonymous.get(path).status_code in (404, 422)


def test_docs_render_in_a_browser_from_local_files(
    chromium: webdriver.Chrome,  # noqa: F811 (the fixture imported above)
    live_api: LiveServer,
    anonymous: httpx.Client,
) -> None:
    chromium.get_log("browser")
    chromium.get(f"{live_api.url}/docs")
    WebDriverWait(chromium, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    )
    title = chromium.find_element(By.CSS_SELECTOR, ".info .title").text
    assert title.startswith("intakeguard")
    paths = {e.text for e in chromium.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/v1/verdicts/{verdict_id}/message" in {p.replace("\u200b", "") for p in paths}
    # Nothing blocked by the CSP, nothing failed to load.
    problems = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], problems
