"""Normalised addresses: the A-label domain without the idna call where none is needed."""

from __future__ import annotations

import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook.addresses import InvalidAddress, normalise_address


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
