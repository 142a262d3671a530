"""The in-memory registry index: answers from memory, never from a registry that changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text

from app.api import build_service
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from app.settings import Settings
from app.verdict_types import Verdict as VerdictJson
from mailhook.message import Channel, Envelope, parse_message
from tests.support import make_message

ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mail.acme.pl", mail_from="jan@acme.pl")


def register(service: DecisionService, panel_email: str) -> None:
    data = CustomerData(panel_email=panel_email, kind="person", name="Jan", services=("acme.pl",))
    with service.sessions.begin() as session:
        put_customer(session, validate("acme", data), service.identifier_key or b"")


def register_elsewhere(settings: Settings, panel_email: str) -> None:
    """register, by another process's service on the same store."""
    other = build_service(settings)
    try:
        register(other, panel_email)
    finally:
        other.sessions.kw["bind"].dispose()


def submit(service: DecisionService, subject: str) -> VerdictJson:
    raw = make_message(subject=subject, body="Prosze o duplikat faktury za acme.pl.\n")
    return service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))


def customer_match(verdict: VerdictJson) -> str:
    return next(c["result"] for c in verdict["checks"] if c["name"] == "customer-match")


def submit_from(service: DecisionService, sender: str, subject: str) -> VerdictJson:
    """A message that names no service: its customer is the sender's, if any."""
    raw = make_message(sender=sender, subject=subject, body="Prosze o duplikat faktury.\n")
    return service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))


@contextmanager
def services_read(engine: Engine, table: str = "services") -> Iterator[list[str]]:
    """The statements that read ``table`` while the block runs."""
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and f"FROM {table}" in sql:
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def test_a_name_read_once_is_answered_from_memory_until_the_registry_changes(
    service: DecisionService,
) -> None:
    register(service, "jan@acme.pl")
    engine = service.sessions.kw["bind"]
    assert customer_match(submit(service, "Pierwsza")) == "pass"
    with services_read(engine) as reads:
        assert customer_match(submit(service, "Druga")) == "pass"
    assert reads == [], "the second message's service came from the index"
    register(service, "jan@acme.pl")  # the same data written again: a change all the same
    with services_read(engine) as reads:
        assert customer_match(submit(service, "Trzecia")) == "pass"
    assert len(reads) == 1


def test_a_panel_address_changed_by_another_process_never_matches_from_memory(
    service: DecisionService, settings: Settings
) -> None:
    """Another process (here a service of its own, on the same store) changes the panel
    address: this process's index, which holds the old one, must not match it again."""
    register(service, "jan@acme.pl")
    assert customer_match(submit(service, "Przed zmiana")) == "pass"
    register_elsewhere(settings, "nowy@acme.pl")
    assert customer_match(submit(service, "Po zmianie")) == "fail"


def test_a_change_made_by_hand_in_sql_is_seen_too(service: DecisionService) -> None:
    """The version is raised by database triggers, whatever writes the registry."""
    register(service, "jan@acme.pl")
    assert customer_match(submit(service, "Przed")) == "pass"
    with service.sessions.begin() as session:
        session.execute(
            text("UPDATE customers SET panel_email = 'ktos@acme.pl' WHERE login = 'acme'")
        )
    assert customer_match(submit(service, "Po")) == "fail"
    with service.sessions.begin() as session:
        session.execute(text("DELETE FROM services"))
    assert customer_match(submit(service, "Bez uslugi")) != "fail"


def test_a_sender_naming_no_service_is_answered_from_memory_until_the_registry_changes(
    service: DecisionService, settings: Settings
) -> None:
    """Who holds a panel address, and that an address is nobody's, come from the index;
    a change in another process makes the old address nobody's and the new one match."""
    register(service, "jan@acme.pl")
    engine = service.sessions.kw["bind"]
    assert customer_match(submit_from(service, "jan@acme.pl", "Pierwsza")) == "pass"
    with services_read(engine, "customers") as reads:
        assert customer_match(submit_from(service, "jan@acme.pl", "Druga")) == "pass"
        assert customer_match(submit_from(service, "obcy@acme.pl", "Obcy")) == "none"
    assert reads == [], "both answers came from the index"
    register_elsewhere(settings, "nowy@acme.pl")
    assert customer_match(submit_from(service, "jan@acme.pl", "Po zmianie")) == "none"
    assert customer_match(submit_from(service, "nowy@acme.pl", "Nowy adres")) == "pass"


def test_a_login_is_answered_from_memory_until_the_registry_changes(
    service: DecisionService,
) -> None:
    """A login, known or nobody's, comes from the index; a customer registered since
    under a login asked before is found, with the panel address it has."""
    register(service, "jan@acme.pl")
    engine = service.sessions.kw["bind"]

    def login_match(login: str, subject: str) -> str:
        body = f"Prosze o duplikat faktury, login: {login}.\n"
        raw = make_message(subject=subject, body=body)
        return customer_match(service.submit(parse_message(raw, ENVELOPE, Channel.SMTP)))

    assert login_match("acme", "Pierwsza") == "pass"
    assert login_match("nikt", "Nikt") == "pass", "nobody's login: the sender's customer"
    with services_read(engine, "customers") as reads:
        assert login_match("acme", "Druga") == "pass"
        assert login_match("nikt", "Nikt znowu") == "pass"
    assert reads == [], "both answers came from the index"
    data = CustomerData(panel_email="inny@acme.pl", kind="person", name="Inny", services=())
    with service.sessions.begin() as session:
        put_customer(session, validate("nikt", data), service.identifier_key or b"")
    assert login_match("nikt", "Teraz jest") == "fail", "the login is another's now"


def test_a_look_alike_is_answered_from_memory_until_the_registry_changes(
    service: DecisionService, settings: Settings
) -> None:
    """Which registered domain a name imitates (acrne.pl: "rn" for "m"), and that it
    imitates none, come from the index; a domain registered since in another process
    is imitated from the next message on."""

    def scope(name: str, subject: str) -> str:
        raw = make_message(subject=subject, body=f"Prosze o duplikat faktury za {name}.\n")
        verdict = service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))
        return next(c["result"] for c in verdict["checks"] if c["name"] == "service-scope")

    data = CustomerData(panel_email="jan@acme.pl", kind="person", name="Jan", services=("beta.pl",))
    with service.sessions.begin() as session:
        put_customer(session, validate("acme", data), service.identifier_key or b"")
    engine = service.sessions.kw["bind"]
    assert scope("acrne.pl", "Pierwsza") != "lookalike", "acme.pl is nobody's yet"
    with services_read(engine) as reads:
        assert scope("acrne.pl", "Druga") != "lookalike"
    assert reads == [], "that acrne.pl imitates nothing came from the index"
    register_elsewhere(settings, "jan@acme.pl")
    assert scope("acrne.pl", "Po rejestracji") == "lookalike"
    with services_read(engine) as reads:
        assert scope("acrne.pl", "Znowu") == "lookalike"
    assert reads == [], "the look-alike came from the index"
