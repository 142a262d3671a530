"""Fixtures: the store on SQLite and PostgreSQL, the decision service, a live API."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.api import build_service, create_app
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.models import Base
from app.decision.service import DecisionService
from app.settings import Settings
from mailhook.checks import _dkim_patches
from tests.dns_server import FixtureDnsServer
from tests.support import (
    ADMIN_TOKEN,
    FIXTURES,
    RULES,
    TLS,
    LiveServer,
    make_settings,
    scratch_database,
)

POSTGRES_URL = os.environ.get(
    "INTAKEGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ON_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_server() -> Engine | None:
    engine = create_engine(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        engine.dispose()
        if ON_CI:
            pytest.fail(f"PostgreSQL must be reachable on CI at {POSTGRES_URL}: {exc}")
        return None
    return engine


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    server = _postgres_server()
    if server is None:
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRES_URL}; start it or set "
            "INTAKEGUARD_TEST_POSTGRES_URL to a server where the user may CREATE DATABASE"
        )
    name = f"intakeguard_test_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own with no schema, on each backend: for migration tests."""
    with scratch_database(request, tmp_path / "migrate.db", "intakeguard_migrate") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'intakeguard.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each store test runs once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture(scope="session", autouse=True)
def _dkimpy_as_the_service_runs_it() -> None:
    """The whole session verifies and signs with dkimpy's replacements in place, from the
    first test on, not from whichever test first runs a DKIM check (which applies them
    too: mailhook/checks/_dkim_patches.py; test_dkim_patches compares with dkimpy as
    released)."""
    _dkim_patches.apply()


@pytest.fixture(scope="session")
def dns_server() -> Iterator[FixtureDnsServer]:
    """The fixture zones of ``fixtures/dns`` served on a loopback port for the session."""
    server = FixtureDnsServer(FIXTURES / "dns").start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _no_dns_but_ours(dns_server: FixtureDnsServer) -> Iterator[None]:
    """Whatever a test starts (a CLI subprocess, a service from settings) asks the fixture
    DNS server, never this machine's resolver: tests send traffic to loopback only."""
    saved = os.environ.get("INTAKEGUARD_DNS_NAMESERVERS")
    os.environ["INTAKEGUARD_DNS_NAMESERVERS"] = dns_server.address
    yield
    if saved is None:
        os.environ.pop("INTAKEGUARD_DNS_NAMESERVERS", None)
    else:
        os.environ["INTAKEGUARD_DNS_NAMESERVERS"] = saved


@pytest.fixture
def dns_faults(dns_server: FixtureDnsServer) -> Iterator[dict[str, str]]:
    """Names to fail (``timeout``, ``servfail``, ``refused``) for one test."""
    yield dns_server.faults
    dns_server.faults.clear()


@pytest.fixture(scope="session")
def settings(database_url: str, dns_server: FixtureDnsServer) -> Settings:
    return make_settings(database_url, dns_nameservers=[dns_server.address], dns_timeout=1.0)


@pytest.fixture(scope="session")
def session_service(settings: Settings) -> Iterator[DecisionService]:
    service = build_service(settings)
    yield service
    service.sessions.kw["bind"].dispose()


@pytest.fixture
def service(session_service: DecisionService) -> DecisionService:
    """The decision service on an emptied store."""
    if session_service.resolver is not None:
        session_service.resolver.clear_cache()
    engine = session_service.sessions.kw["bind"]
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return session_service


@pytest.fixture(scope="session")
def live_api(settings: Settings, session_service: DecisionService) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings, session_service)) as server:
        yield server


@pytest.fixture
def api(live_api: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    """A client of the live API, authenticated with the admin token, on an empty store."""
    with httpx.Client(
        verify=TLS,
        base_url=live_api.url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def anonymous(live_api: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as client:
        yield client


@pytest.fixture
def repo_rules(tmp_path: Path) -> Path:
    """A copy of the default rules directory that a test may edit."""
    target = tmp_path / "rules"
    target.mkdir()
    for path in RULES.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target
