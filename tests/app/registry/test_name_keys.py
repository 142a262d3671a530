"""Customers' name keys: written whenever a customer is stored or renamed, migrated, and
served from the registry index without a statement per message."""

from __future__ import annotations

import httpx
from alembic import command
from sqlalchemy import select, text

from app.api import build_service
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.models import CustomerNameKey, RegistryVersion
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, delete_customer, put_customer, validate
from app.registry.importer import import_customers
from app.settings import Settings
from mailhook.message import Channel, parse_message
from tests.app.api.common import register as put_over_rest
from tests.app.records.test_audit import alembic_config, assert_new_table_migrates
from tests.app.registry.test_index import ENVELOPE, services_read
from tests.support import SECRET_KEY, make_message

ACME = CustomerData("jan@acme.pl", "company", "ACME sp. z o.o.", ("acme.pl",))


def put(service: DecisionService, login: str, kind: str, name: str) -> None:
    data = CustomerData(
        f"{login}@{login}.example", "company" if kind == "company" else "person", name
    )
    with service.sessions.begin() as session:
        put_customer(session, validate(login, data), SECRET_KEY.encode())


def keys(service: DecisionService) -> set[tuple[str, str]]:
    with service.sessions() as session:
        rows = session.execute(
            text(
                "SELECT c.login, k.key FROM customer_name_keys k "
                "JOIN customers c ON c.id = k.customer_id"
            )
        )
        return {(login, key) for login, key in rows}


def version(service: DecisionService) -> int:
    with service.sessions() as session:
        return session.scalars(select(RegistryVersion.version)).one()


def test_keys_are_written_with_the_customer_and_replaced_when_it_is_renamed(
    service: DecisionService,
) -> None:
    put(service, "beta", "company", "Beta sp. z o.o.")
    put(service, "nowak", "person", "Ola Nowak")
    assert keys(service) == {("beta", "beta"), ("nowak", "ola nowak"), ("nowak", "nowak ola")}
    put(service, "beta", "company", "Beta Software S.A.")
    assert keys(service) == {
        ("beta", "beta software"),
        ("nowak", "ola nowak"),
        ("nowak", "nowak ola"),
    }
    put(service, "nowak", "person", "Ola")  # one name alone finds nobody
    assert ("nowak", "ola nowak") not in keys(service)
    with service.sessions.begin() as session:
        delete_customer(session, "beta")
    assert keys(service) == set()


def test_the_import_writes_the_keys_of_new_and_updated_customers(service: DecisionService) -> None:
    put(service, "beta", "company", "Beta sp. z o.o.")
    rows = [
        validate("beta", CustomerData("beta@beta.example", "company", "Gamma Delta sp. k.")),
        validate("nowak", CustomerData("ola@nowak.example", "person", "Ola Nowak")),
    ]
    with service.sessions.begin() as session:
        report = import_customers(session, rows, SECRET_KEY.encode(), lambda *_: None)
    assert (report.created, report.updated) == (1, 1)
    assert keys(service) == {
        ("beta", "gamma delta"),
        ("nowak", "ola nowak"),
        ("nowak", "nowak ola"),
    }


def test_a_put_over_rest_writes_the_keys(api: httpx.Client, service: DecisionService) -> None:
    assert put_over_rest(api, "kwiatex", name="„Kwiatex” S.A.", services=["kwiatex.pl"]).is_success
    assert keys(service) == {("kwiatex", "kwiatex")}
    assert put_over_rest(api, "kwiatex", name="Kwiaty Polne S.A.", services=[]).is_success
    assert keys(service) == {("kwiatex", "kwiaty polne")}


def test_a_change_of_keys_alone_raises_the_registry_version(service: DecisionService) -> None:
    """Triggers on the table, as on customers and services (a change by hand, too)."""
    with service.sessions.begin() as session:
        # The store was emptied for the test, the version row with it.
        session.execute(text("INSERT INTO registry_version (id, version) VALUES (1, 1)"))
    put(service, "beta", "company", "Beta sp. z o.o.")
    before = version(service)
    with service.sessions.begin() as session:
        session.execute(text("DELETE FROM customer_name_keys"))
    assert version(service) > before


def named_customer(service: DecisionService, subject: str, body: str) -> str | None:
    raw = make_message(subject=subject, body=body)
    verdict = service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))
    return next((c["result"] for c in verdict["checks"] if c["name"] == "named-customer"), None)


def test_names_are_answered_from_memory_until_another_process_changes_the_registry(
    service: DecisionService, settings: Settings
) -> None:
    with service.sessions.begin() as session:
        put_customer(session, validate("acme", ACME), SECRET_KEY.encode())
    engine = service.sessions.kw["bind"]
    body = "Prosze o duplikat faktury dla Beta sp. z o.o. i dla ACME sp. z o.o.\n"
    assert named_customer(service, "Pierwsza", body) == "pass"
    with services_read(engine, "customer_name_keys") as reads:
        assert named_customer(service, "Druga", body) == "pass"
        assert named_customer(service, "Inna", "Faktura dla Gamma S.A. i Ola Nowak.\n") is None
    assert reads == [], "every name came from the index"
    other = build_service(settings)
    try:
        with other.sessions.begin() as session:
            data = CustomerData("ola@beta.pl", "company", "Beta S.A.", ("beta.pl",))
            put_customer(session, validate("beta", data), SECRET_KEY.encode())
    finally:
        other.sessions.kw["bind"].dispose()
    assert named_customer(service, "Po zmianie", body) == "other"
    with services_read(engine, "customer_name_keys") as reads:
        assert named_customer(service, "Znowu", body) == "other"
    assert reads == []


def test_migration_0015_computes_the_keys_of_stored_customers(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0014")
        with engine.begin() as connection:
            for login, kind, name in (
                ("beta", "company", "Beta sp. z o.o."),
                ("nowak", "person", "Ola Nowak"),
                ("ab", "company", "AB S.A."),
            ):
                connection.execute(
                    text(
                        "INSERT INTO customers (login, kind, name, panel_email, "
                        "panel_email_changed_at, created_at, updated_at) VALUES (:login, "
                        ":kind, :name, :email, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"login": login, "kind": kind, "name": name, "email": f"{login}@x.example"},
                )
            before = connection.execute(select(RegistryVersion.version)).scalar_one()
        upgrade(engine)
        with engine.connect() as connection:
            stored = set(connection.execute(select(CustomerNameKey.key)).scalars())
            assert stored == {"beta", "ola nowak", "nowak ola"}
            assert connection.execute(select(RegistryVersion.version)).scalar_one() > before
        command.downgrade(alembic_config(engine), "0014")
    finally:
        engine.dispose()
    assert_new_table_migrates(empty_database, "customer_name_keys", "0014")
