"""Organisational domains from the Public Suffix List and DMARC alignment (RFC 7489 §3)."""

from __future__ import annotations

import pytest

from mailhook.domains import aligned, normalise_domain, organisational_domain
from mailhook.services import bare_names


@pytest.mark.parametrize(
    ("domain", "organisational"),
    [
        ("acme.pl", "acme.pl"),
        ("mail.acme.pl", "acme.pl"),
        ("a.b.c.acme.pl", "acme.pl"),
        # com.pl is a public suffix: the organisation is the label below it.
        ("mail.shop.com.pl", "shop.com.pl"),
        ("shop.com.pl", "shop.com.pl"),
        # A public suffix has no label to add and stands for itself.
        ("com.pl", "com.pl"),
        ("pl", "pl"),
        ("Mail.ACME.pl.", "acme.pl"),
        ("poczta.żółw.pl", "xn--w-uga1v8h.pl"),
        # A TLD the list does not know is taken as a public suffix.
        ("mx.lists.example", "lists.example"),
    ],
)
def test_organisational_domain_is_one_label_below_the_public_suffix(
    domain: str, organisational: str
) -> None:
    assert organisational_domain(domain) == organisational


def test_names_are_compared_as_lower_case_a_labels() -> None:
    assert normalise_domain(" ŻÓŁW.pl. ") == "xn--w-uga1v8h.pl"
    assert normalise_domain("Acme.PL") == "acme.pl"


def test_relaxed_alignment_needs_the_same_organisational_domain() -> None:
    assert aligned("bounce.acme.pl", "acme.pl", strict=False)
    assert aligned("acme.pl", "mail.acme.pl", strict=False)
    assert aligned("xn--w-uga1v8h.pl", "żółw.pl", strict=False)
    assert not aligned("mailer.example", "acme.pl", strict=False)


def test_siblings_under_a_multi_label_public_suffix_are_not_aligned() -> None:
    # Both end in com.pl, but com.pl is a public suffix, not a common parent.
    assert not aligned("other.com.pl", "shop.com.pl", strict=False)
    assert not aligned("com.pl", "shop.com.pl", strict=False)
    assert aligned("mail.shop.com.pl", "shop.com.pl", strict=False)


def test_strict_alignment_needs_the_very_same_name() -> None:
    assert aligned("STRICT.pl", "strict.pl", strict=True)
    assert not aligned("mail.strict.pl", "strict.pl", strict=True)


def test_empty_names_align_with_nothing() -> None:
    assert not aligned("", "acme.pl", strict=False)
    assert not aligned("acme.pl", "", strict=True)


@pytest.mark.parametrize(
    ("folded", "acting", "names"),
    [
        ("zmiana rekordu mx dla kwiaty", True, ["kwiaty"]),
        ("zmiana rekordu mx dla domeny kwiaty", True, ["kwiaty"]),
        # The word for a service after "dla" is no name; what follows it is a domain.
        ("zmiana rekordu mx dla domeny sklep7.bench08.example", True, []),
        ("change the mx record for the domain kwiaty", True, ["kwiaty"]),
        # Only a request that acts on a service reads the word after "dla" as a name.
        ("duplikat faktury dla kwiaty", False, []),
    ],
)
def test_bare_names_a_reader_takes_for_a_service(
    folded: str, acting: bool, names: list[str]
) -> None:
    assert bare_names(folded, acting=acting) == names
