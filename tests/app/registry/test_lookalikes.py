"""Look-alike domains against the registry: skeleton column, lookup, migration, live API."""

from __future__ import annotations

import uuid
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, session_factory, store_errors
from app.db.migrate import MIGRATIONS, upgrade
from app.db.models import Service
from app.decision.service import DecisionService
from app.errors import StoreUnavailable
from app.registry.customers import CustomerData, put_customer, validate
from app.registry.importer import import_customers
from app.registry.lookalikes import driver_lookup, imitated_domain
from mailhook.message import Channel, Envelope, parse_message
from tests.support import SECRET_KEY

PROVIDER = ("hosting.example",)


def register(sessions: sessionmaker[Session], login: str, *services: str) -> None:
    customer = validate(
        login,
        CustomerData(panel_email=f"{login}@acme.pl", kind="company", name=login, services=services),
    )
    with sessions.begin() as session:
        put_customer(session, customer, SECRET_KEY.encode())


def lookup(service: DecisionService, domain: str) -> str | None:
    with service.sessions() as session:
        return imitated_domain(session, domain, PROVIDER)


def skeletons(service: DecisionService) -> dict[str, str | None]:
    with service.sessions() as session:
        rows = session.execute(select(Service.name_ascii, Service.skeleton))
        return {name: skeleton for name, skeleton in rows}


@pytest.fixture
def registry(service: DecisionService) -> DecisionService:
    register(service.sessions, "acme", "acme.pl", "żółw.pl", "srv-01")
    register(service.sessions, "shops", "rn-shop.pl", "m-shop.pl")
    return service


def test_stored_services_carry_their_skeleton(registry: DecisionService) -> None:
    assert skeletons(registry) == {
        "acme.pl": "acrne.pl",
        "xn--w-uga1v8h.pl": "zolvv.pl",
        "srv-01": None,  # a server id is no domain to imitate
        "rn-shop.pl": "rn-shop.pl",
        "m-shop.pl": "rn-shop.pl",
    }


def test_the_bulk_import_fills_the_skeleton_too(service: DecisionService) -> None:
    customers = [
        validate(
            "bulk",
            CustomerData(panel_email="b@b.pl", kind="person", name="B", services=("g00gle.pl",)),
        )
    ]
    with service.sessions.begin() as session:
        import_customers(session, customers, SECRET_KEY.encode(), lambda *_: None)
    assert skeletons(service) == {"g00gle.pl": "google.pl"}


@pytest.mark.parametrize(
    ("domain", "imitated"),
    [
        ("\u0430cme.pl", "acme.pl"),  # Cyrillic а
        ("xn--cme-5cd.pl", "acme.pl"),  # the same, as an A-label
        ("acrne.pl", "acme.pl"),  # rn for m
        ("mail.acrne.pl", "acme.pl"),  # a subdomain of a look-alike
        ("ACME.PL", None),  # the registered domain itself, in capitals
        ("mail.acme.pl", None),  # a subdomain of a registered domain
        ("zolw.pl", "żółw.pl"),  # diacritics and the stroke of ł removed
        ("\u03b1cme.pl", "acme.pl"),  # Greek α
        ("z\u0585lw.pl", "żółw.pl"),  # Armenian օ
        ("\uab7acme.pl", "acme.pl"),  # Cherokee ꭺ, whose prototype is the small capital ᴀ
        ("\uff41\u0441me.pl", "acme.pl"),  # fullwidth ａ beside Cyrillic с
        ("\U0001d41a\U0001d41c\U0001d426\U0001d41e.pl", None),  # math bold: IDNA makes it acme.pl
        ("rn-shop.pl", None),  # registered itself, though it looks like m-shop.pl
        ("unrelated.pl", None),
        ("h0sting.example", "hosting.example"),  # a provider domain
        ("mx.hosting.example", None),  # our own
        ("srv-01", None),
    ],
)
def test_lookup(registry: DecisionService, domain: str, imitated: str | None) -> None:
    assert lookup(registry, domain) == imitated


def test_the_lookup_is_one_query(registry: DecisionService) -> None:
    engine: Engine = registry.sessions.kw["bind"]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert lookup(registry, "acrne.pl") == "acme.pl"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


def test_the_skeleton_column_is_indexed(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        indexes = inspect(engine).get_indexes("services")
    finally:
        engine.dispose()
    assert any(index["column_names"] == ["skeleton"] for index in indexes), indexes


def test_the_service_rejects_a_lookalike_of_a_provider_domain(registry: DecisionService) -> None:
    registry.provider_domains = PROVIDER
    raw = b"From: Dzial wsparcia <support@h0sting.example>\r\nSubject: x\r\n\r\nHello\r\n"
    findings = registry.verify(parse_message(raw, Envelope(), Channel.API))
    lookalike = next(f for f in findings if f.name == "lookalike-domain")
    assert lookalike.result == "fail"
    assert "looks like hosting.example" in lookalike.reason


# --- the migration -------------------------------------------------------------------


def insert_customer(connection: Connection) -> None:
    """Customer 1, as a migration finds it stored (no ORM: the models are the head's)."""
    connection.execute(
        text(
            "INSERT INTO customers (id, login, kind, name, panel_email, "
            "panel_email_changed_at, created_at, updated_at) VALUES "
            "(1, 'acme', 'company', 'ACME', 'jan@acme.pl', :now, :now, :now)"
        ),
        {"now": "2026-11-28 10:00:00+00:00"},
    )


def test_the_migration_backfills_skeletons_and_downgrades(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            insert_customer(connection)
            connection.execute(
                text(
                    "INSERT INTO services (customer_id, kind, name_ascii, name_unicode) VALUES "
                    "(1, 'domain', 'acme.pl', 'acme.pl'), "
                    "(1, 'domain', 'xn--w-uga1v8h.pl', 'żółw.pl'), "
                    "(1, 'server', 'srv-01', 'srv-01')"
                )
            )
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions() as session:
            stored = session.execute(select(Service.name_ascii, Service.skeleton))
            rows = {name: skeleton for name, skeleton in stored}
            assert imitated_domain(session, "acrne.pl") == "acme.pl"
        assert rows == {"acme.pl": "acrne.pl", "xn--w-uga1v8h.pl": "zolvv.pl", "srv-01": None}
        assert "message_fingerprints" in inspect(engine).get_table_names()

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = engine
        command.downgrade(config, "0001")
        inspector = inspect(engine)
        assert "message_fingerprints" not in inspector.get_table_names()
        assert "skeleton" not in [c["name"] for c in inspector.get_columns("services")]
        upgrade(engine)
    finally:
        engine.dispose()


def test_migration_0006_recomputes_every_stored_skeleton(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0005")
        with engine.begin() as connection:
            insert_customer(connection)
            # Skeletons as the hand-picked table of revisions before 0006 computed them.
            connection.execute(
                text(
                    "INSERT INTO services (customer_id, kind, name_ascii, name_unicode, skeleton) "
                    "VALUES (1, 'domain', 'acme.pl', 'acme.pl', 'acrne.pl'), "
                    "(1, 'domain', 'xn--cme-k66l.pl', '\uab7acme.pl', '\uab7acrne.pl')"
                )
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            stored = dict(session.execute(select(Service.name_ascii, Service.skeleton)).all())
        assert stored == {"acme.pl": "acrne.pl", "xn--cme-k66l.pl": "acrne.pl"}
    finally:
        engine.dispose()


# --- end to end ----------------------------------------------------------------------

ACME = {"panel_email": "jan@acme.pl", "kind": "company", "name": "ACME", "services": ["acme.pl"]}


def lookalike_message(domain: str) -> bytes:
    return (
        f"From: Jan Kowalski <jan@{domain}>\r\n"
        "To: support@hosting.example\r\n"
        f"Date: {formatdate()}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{domain}>\r\n"
        "Subject: Transfer domeny acme.pl\r\n"
        "\r\n"
        "Prosze o kod AuthInfo dla domeny acme.pl.\r\n"
    ).encode()


@pytest.mark.parametrize("domain", ["acrne.pl", "\u0430cme.pl"])
def test_a_lookalike_sender_is_rejected_naming_the_imitated_domain(
    api: httpx.Client, domain: str
) -> None:
    assert api.put("/v1/customers/acme", json=ACME).status_code == 201
    # The look-alike's owner authenticates it properly (SPF passes for this client).
    response = api.post(
        "/v1/messages",
        content=lookalike_message(domain),
        params={"client_ip": "198.51.100.66", "helo": f"mx.{domain}", "mail_from": f"jan@{domain}"},
        headers={"Content-Type": "message/rfc822"},
    )
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["decision"] == "rejected"
    lookalike = next(c for c in verdict["checks"] if c["name"] == "lookalike-domain")
    assert lookalike["result"] == "fail"
    assert "looks like acme.pl but is a different domain" in lookalike["reason"]
    assert lookalike["reason"] in verdict["reasons"]


# --- the lookup on a driver connection (what verification uses) ------------------------


@pytest.mark.parametrize(
    "domain",
    ["\u0430cme.pl", "acrne.pl", "mail.acrne.pl", "ACME.PL", "zolw.pl", "rn-shop.pl", "x.pl"],
)
def test_the_driver_lookup_answers_as_the_session_lookup(
    registry: DecisionService, domain: str
) -> None:
    driver = driver_lookup(registry.read_engine)
    assert driver_lookup(registry.read_engine) is driver
    assert imitated_domain(driver, domain, PROVIDER) == lookup(registry, domain)


def test_the_driver_lookup_sees_a_registry_change_at_once(registry: DecisionService) -> None:
    driver = driver_lookup(registry.read_engine)
    assert imitated_domain(driver, "g00gle.pl") is None
    register(registry.sessions, "google", "google.pl")
    assert imitated_domain(driver, "g00gle.pl") == "google.pl"


def test_the_driver_lookup_sends_no_transaction_to_postgresql(registry: DecisionService) -> None:
    """One round trip a message: in the driver's implicit transaction the lookup also
    cost a BEGIN, and the pool's ROLLBACK when the connection went back."""
    engine = registry.read_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's connections are in autocommit mode (app.db.engine)")
    returned: list[tuple[Any, bool]] = []

    def on_reset(driver: Any, *_: Any) -> None:
        # Before the pool's own reset: what the lookup left.
        returned.append((driver.info.transaction_status, driver.autocommit))

    event.listen(engine.pool, "reset", on_reset)
    try:
        assert imitated_domain(driver_lookup(engine), "acrne.pl") == "acme.pl"
    finally:
        event.remove(engine.pool, "reset", on_reset)
    # Nothing to roll back, and out of autocommit again for the pool's next user.
    assert returned == [(TransactionStatus.IDLE, False)]


def test_the_driver_lookup_raises_what_the_sqlalchemy_lookup_raises(empty_database: str) -> None:
    # A store without the registry's tables: the driver's error (OperationalError on
    # SQLite, UndefinedTable on PostgreSQL) arrives as what the SQLAlchemy path raised.
    engine = make_engine(empty_database)
    try:
        with (
            pytest.raises(Exception) as through_sqlalchemy,
            store_errors(),
            engine.connect() as connection,
        ):
            imitated_domain(connection, "acrne.pl")
        with pytest.raises(Exception) as through_driver, store_errors():
            imitated_domain(driver_lookup(engine), "acrne.pl")
    finally:
        engine.dispose()
    assert type(through_driver.value) is type(through_sqlalchemy.value)
    said = [str(caught.value).splitlines()[0] for caught in (through_driver, through_sqlalchemy)]
    assert said[0] == said[1]


def test_verification_says_the_store_is_unavailable_when_the_registry_cannot_be_read(
    service: DecisionService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A directory is no database file: SQLite cannot open it (an OperationalError).
    broken = make_engine(f"sqlite:///{tmp_path}")
    monkeypatch.setattr(service, "read_engine", broken)
    raw = b"From: Jan <jan@acrne.pl>\r\nSubject: x\r\n\r\nHello\r\n"
    try:
        with pytest.raises(StoreUnavailable, match="unable to open database file"):
            service.verify(parse_message(raw, Envelope(), Channel.API))
    finally:
        broken.dispose()
