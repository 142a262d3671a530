"""Which registered service a name in a message stands for: itself, a parent, a look-alike."""

from __future__ import annotations

import pytest

from app.decision.named_services import resolve
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, names_to_try, put_customer, validate
from mailhook.instructions import to_a_label
from tests.support import SECRET_KEY


def register(service: DecisionService, login: str, *services: str) -> None:
    data = CustomerData(
        panel_email=f"{login}@example.pl", kind="company", name=login, services=services
    )
    with service.sessions.begin() as session:
        put_customer(session, validate(login, data), SECRET_KEY.encode())


@pytest.fixture
def registry(service: DecisionService) -> DecisionService:
    register(service, "acme", "acme.pl", "vps-12345")
    register(service, "beta", "beta.pl")
    register(service, "agencja", "studio-web.pl")
    register(service, "sklep", "sklep.studio-web.pl")
    register(service, "suffix", "com.pl")
    return service


@pytest.mark.parametrize(
    ("name", "tried"),
    [
        pytest.param("acme.pl", ("acme.pl",), id="a registrable domain is only itself"),
        pytest.param("www.acme.pl", ("www.acme.pl", "acme.pl"), id="a host tries its domain"),
        pytest.param(
            "a.b.shop.com.pl",
            ("a.b.shop.com.pl", "b.shop.com.pl", "shop.com.pl"),
            id="the walk stops at the organisational domain under a public suffix",
        ),
        pytest.param("com.pl", ("com.pl",), id="a public suffix stands for itself"),
        # Customers write a server id with or without its dash ("VPS 12345", "vps12345").
        pytest.param(
            "vps-12345",
            ("vps-12345", "vps12345"),
            id="a server id stands for itself with or without its dash",
        ),
    ],
)
def test_the_names_a_name_may_stand_for(name: str, tried: tuple[str, ...]) -> None:
    assert names_to_try(name) == tried


@pytest.mark.parametrize(
    ("written", "registered", "holder", "how"),
    [
        pytest.param("acme.pl", "acme.pl", "acme", "exact", id="a registered domain is itself"),
        pytest.param("vps-12345", "vps-12345", "acme", "exact", id="a server id is itself"),
        pytest.param("www.beta.pl", "beta.pl", "beta", "parent", id="a www host is its domain"),
        pytest.param("poczta.beta.pl", "beta.pl", "beta", "parent", id="a mail host is its domain"),
        pytest.param(
            "www.sklep.studio-web.pl",
            "sklep.studio-web.pl",
            "sklep",
            "parent",
            id="the longest registered parent holds the host",
        ),
        pytest.param(
            "b\u0435ta.pl", "beta.pl", "beta", "lookalike", id="a Cyrillic letter imitates"
        ),
        pytest.param(
            "studi0-web.pl", "studio-web.pl", "agencja", "lookalike", id="a digit imitates a letter"
        ),
        pytest.param(
            "www.b\u0435ta.pl",
            "beta.pl",
            "beta",
            "lookalike",
            id="a host of a look-alike imitates the domain",
        ),
        pytest.param("acrne.pl", "acme.pl", "acme", "lookalike", id="rn imitates m"),
    ],
)
def test_a_name_stands_for_the_registered_service(
    registry: DecisionService, written: str, registered: str, holder: str, how: str
) -> None:
    name = to_a_label(written)
    assert name is not None
    with registry.sessions() as session:
        named = resolve(session, (name,))[name]
        assert (named.service.name_unicode, named.service.customer.login, named.how) == (
            registered,
            holder,
            how,
        )


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("ns1.example.com", id="a host nobody registered"),
        pytest.param("shop.com.pl", id="a domain under a registered public suffix"),
        pytest.param("acme.pl.evil.example", id="a registered name as a host of another domain"),
        pytest.param("vps-99999", id="a server id nobody registered"),
    ],
)
def test_a_name_that_stands_for_no_service(registry: DecisionService, written: str) -> None:
    with registry.sessions() as session:
        assert resolve(session, (written,)) == {}


def test_every_name_of_a_long_message_is_looked_up(registry: DecisionService) -> None:
    # More names than one query asks for: the last, another customer's, is still found.
    written = [*(f"n{i}.example.com" for i in range(450)), "www.beta.pl", "b\u0435ta.pl"]
    names = tuple(to_a_label(n) or n for n in written)
    with registry.sessions() as session:
        resolved = resolve(session, names)
    assert {named.service.name_unicode for named in resolved.values()} == {"beta.pl"}
    assert sorted(named.how for named in resolved.values()) == ["lookalike", "parent"]
