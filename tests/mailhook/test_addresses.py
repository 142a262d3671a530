"""Normalised addresses: the A-label domain without the idna call where none is needed."""

from __future__ import annotations

import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook.addresses import (
    InvalidAddress,
    Path,
    domain_of,
    normalise_address,
    parse_mailbox,
    parse_path,
)


def _through_idna(address: str) -> str | None:
    # normalise_address as it was before its shortcut for ASCII domains: the reference.
    try:
        checked = validate_email(
            address, check_deliverability=False, allow_smtputf8=True, allow_quoted_local=False
        )
        domain = idna.encode(checked.domain.lower(), uts46=True).decode("ascii")
    except (EmailNotValidError, idna.IDNAError):
        return None
    return f"{checked.local_part.lower()}@{domain}"


def _normalised(address: str) -> str | None:
    try:
        return normalise_address(address)
    except InvalidAddress:
        return None


_LABELS = st.one_of(
    st.text("aZ09-", min_size=1, max_size=6),
    st.sampled_from(["xn--", "xn--zw-hla", "XN--ZW-HLA", "ab--c", "example", "test", "local"]),
    st.sampled_from(["a" * 63, "b" * 64, "żółw", "ＥＸ", "_dmarc", ""]),
)


@settings(max_examples=1500)
@given(
    st.sampled_from(["Jan", "jan.kowalski", "J+tag", "a" * 64, "a" * 65, ".jan", "ż"]),
    st.lists(_LABELS, min_size=1, max_size=5).map(".".join),
)
def test_normalised_addresses_match_the_idna_path(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert _normalised(address) == _through_idna(address)


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("Jan@ACME.PL", "jan@acme.pl"),
        ("jan@żółw.pl", "jan@xn--w-uga1v8h.pl"),
        ("jan@XN--W-UGA1V8H.pl", "jan@xn--w-uga1v8h.pl"),
        ("jan@" + "a" * 63 + ".pl", "jan@" + "a" * 63 + ".pl"),
        ("jan@" + "a" * 64 + ".pl", None),
        ("jan@ab--c.pl", None),
        ("jan@-acme.pl", None),
    ],
)
def test_domains_are_lower_case_a_labels(address: str, normalised: str | None) -> None:
    assert _normalised(address) == normalised


@pytest.mark.parametrize(
    ("text", "local", "domain"),
    [
        pytest.param("jan@acme.pl", "jan", "acme.pl", id="plain"),
        pytest.param("<Jan@ACME.PL>", "Jan", "acme.pl", id="bracketed, domain case folded"),
        pytest.param(" <jan@acme.pl> ", "jan", "acme.pl", id="white space around"),
        pytest.param('"jan@kowalski.pl"@evil.pl', "jan@kowalski.pl", "evil.pl", id="quoted @"),
        pytest.param('<"jan@kowalski.pl"@evil.pl>', "jan@kowalski.pl", "evil.pl", id="quoted <>"),
        pytest.param(r'"jan\"@x.pl\\"@evil.pl', 'jan"@x.pl\\', "evil.pl", id="escapes"),
        pytest.param('"a b"@acme.pl', "a b", "acme.pl", id="quoted space"),
        pytest.param("<@relay.example,@b.example:jan@acme.pl>", "jan", "acme.pl", id="route"),
        pytest.param("<@relay.example:jan@acme.pl>", "jan", "acme.pl", id="one-hop route"),
        pytest.param("jan@acme.pl.", "jan", "acme.pl", id="trailing dot"),
        pytest.param("jan@żółw.pl", "jan", "xn--w-uga1v8h.pl", id="u-label to a-label"),
        pytest.param("jan@XN--W-UGA1V8H.PL", "jan", "xn--w-uga1v8h.pl", id="a-label any case"),
        pytest.param("zażółć@acme.pl", "zażółć", "acme.pl", id="utf-8 local part"),
        pytest.param("jan@[192.0.2.1]", "jan", "[192.0.2.1]", id="address literal"),
        pytest.param("@acme.pl", "", "acme.pl", id="no local part"),
        pytest.param("acme.pl", "", "acme.pl", id="a domain alone"),
        pytest.param("<>", "", "", id="null path"),
        pytest.param("", "", "", id="nothing is the null path"),
    ],
)
def test_parse_path(text: str, local: str, domain: str) -> None:
    assert parse_path(text) == Path(local, domain)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('"jan@kowalski.pl@evil.pl', id="quote not closed"),
        pytest.param("<jan@acme.pl", id="bracket not closed"),
        pytest.param('jan"x"@acme.pl', id="quote inside an atom"),
        pytest.param("jan\\x@acme.pl", id="backslash outside quotes"),
        pytest.param("jan@", id="no domain"),
        pytest.param("jan@acme..pl", id="empty label"),
        pytest.param("jan@-acme.pl", id="label starts with a hyphen"),
        pytest.param("jan@acme.pl@evil.pl", id="two @ unquoted"),
        pytest.param('"jan"evil.pl', id="quoted without @"),
        pytest.param("jan@ac me.pl", id="space in the domain"),
    ],
)
def test_parse_path_refuses(text: str) -> None:
    with pytest.raises(InvalidAddress):
        parse_path(text)


@pytest.mark.parametrize(
    ("text", "name", "domain"),
    [
        pytest.param("Jan Kowalski <jan@acme.pl>", "Jan Kowalski", "acme.pl", id="name addr"),
        pytest.param("jan@acme.pl (Jan Kowalski)", "", "acme.pl", id="comment after"),
        pytest.param("jan(x)@acme.pl", "", "acme.pl", id="comment in the local part"),
        pytest.param("Jan <jan@(evil.pl)acme.pl>", "Jan", "acme.pl", id="comment in domain"),
        pytest.param('"Kowalski, Jan" <jan@acme.pl>', "Kowalski, Jan", "acme.pl", id="comma q"),
        pytest.param(
            "=?UTF-8?Q?Jan_Kowalski_=C5=BC?= <jan@acme.pl>", "Jan Kowalski ż", "acme.pl", id="ew"
        ),
        pytest.param('"jan@acme.pl" <jan@evil.pl>', "jan@acme.pl", "evil.pl", id="name looks"),
        pytest.param('<"jan@acme.pl"@evil.pl>', "", "evil.pl", id="quoted local in header"),
        pytest.param("Jan <jan@ŻÓŁW.pl>", "Jan", "xn--w-uga1v8h.pl", id="idn in header"),
        pytest.param("Jan <jan @ acme.pl>", "Jan", "acme.pl", id="folding white space"),
    ],
)
def test_parse_mailbox(text: str, name: str, domain: str) -> None:
    mailbox = parse_mailbox(text)
    assert (mailbox.display_name, mailbox.path.domain) == (name, domain)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("jan@acme.pl, anna@acme.pl", id="two mailboxes"),
        pytest.param("Zarzad: jan@acme.pl;", id="a group"),
        pytest.param("Jan <>", id="empty angle brackets"),
        pytest.param("Jan <jan@acme.pl> x", id="text after the address"),
        pytest.param("Jan (unclosed <jan@acme.pl>", id="comment not closed"),
        pytest.param("", id="nothing"),
        pytest.param("Jan Kowalski", id="a name without an address"),
        pytest.param("Jan <jan@acme.pl", id="angle bracket not closed"),
        pytest.param("jan@acme.pl <mallory@evil.example>", id="an address as the bare name"),
    ],
)
def test_parse_mailbox_refuses(text: str) -> None:
    with pytest.raises(InvalidAddress):
        parse_mailbox(text)


def test_the_address_is_quoted_again_when_it_must_be() -> None:
    assert parse_path('"jan@kowalski.pl"@evil.pl').address == '"jan@kowalski.pl"@evil.pl'
    assert parse_path('"jan"@acme.pl').address == "jan@acme.pl"
    assert parse_path("<>").address == ""


def test_domain_of() -> None:
    assert domain_of('"jan@kowalski.pl"@evil.pl') == "evil.pl"
    assert domain_of("@ACME.pl") == "acme.pl"
    assert domain_of("acme.pl") == "acme.pl"
    assert domain_of("<>") is None
    assert domain_of('"unclosed@acme.pl') is None
