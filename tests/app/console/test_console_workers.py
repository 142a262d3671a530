"""The console under ``intakeguard serve --workers 2``: a session made by one worker is
honoured by the other, and ends on both at logout (sessions live in the store)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.console.agents import add_agent
from app.db.engine import make_engine, session_factory
from app.db.types import utcnow
from tests.app.console.common import PASSWORD, csrf_of, log_in
from tests.app.server.test_shutdown import RunningService
from tests.app.server.test_supervisor import (  # noqa: F401 (fixtures used by name)
    log_lines,
    store,
    two_workers,
)
from tests.support import TLS

PAGES = 24
AT_ONCE = 6


def served_by(service: RunningService, path: str) -> set[int]:
    """The workers whose access log shows a request for ``path``."""
    return {
        int(line["worker"])
        for line in log_lines(service)
        if f'"GET {path} HTTP/1.1" 200' in line["message"]
    }


def test_a_session_works_on_every_worker_and_ends_on_all(
    two_workers: RunningService,  # noqa: F811 (the fixture imported above)
) -> None:
    engine = make_engine(two_workers.database_url)
    try:
        with session_factory(engine).begin() as session:
            add_agent(session, "ola", "Ola Nowak", "agent", PASSWORD, utcnow())
    finally:
        engine.dispose()
    # A connection of its own for every request: each is accepted by either worker.
    with httpx.Client(
        verify=TLS, base_url=two_workers.http_url, headers={"Connection": "close"}, timeout=60
    ) as browser:
        assert log_in(browser).status_code == 303

        def open_queue(_: int) -> httpx.Response:
            page = browser.get("/console/")
            assert page.status_code == 200 and "Ola Nowak (ola, agent)" in page.text
            return page

        # Which worker accepts a connection is the kernel's choice: pages asked for several at
        # a time keep one worker busy while the other accepts, until both have served one.
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            while True:
                page = list(pool.map(open_queue, range(PAGES)))[-1]
                if served_by(two_workers, "/console/") == {1, 2} or time.monotonic() > deadline:
                    break
        assert served_by(two_workers, "/console/") == {1, 2}
        token = csrf_of(page)
        assert browser.post("/console/logout", data={"csrf": token}).status_code == 303
        for _ in range(PAGES // 4):
            assert browser.get("/console/").status_code == 303
