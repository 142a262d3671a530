"""PESEL, NIP and REGON: checksums, masking and keyed hashes."""

from __future__ import annotations

import random
from datetime import date

import pytest

from app.errors import InvalidInput
from app.registry.identifiers import IdentifierKind, identifier_hash, keyed_hash, mask, normalise
from mailhook.identifiers import Identifier

PESEL, NIP, REGON = IdentifierKind.PESEL, IdentifierKind.NIP, IdentifierKind.REGON

# Published examples (the tax office's, GUS's and the classic PESEL example).
KNOWN_VALID = [
    (PESEL, "44051401359"),
    (PESEL, "02070803628"),
    (NIP, "5260250274"),
    (NIP, "7740001454"),
    (REGON, "123456785"),
    (REGON, "192598184"),
    (REGON, "12345678512347"),
]


# The checksums, written out here independently of app.registry.identifiers.
def weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def make_pesel(born: date, serial: int) -> str:
    offset = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[born.year // 100]
    body = f"{born.year % 100:02d}{born.month + offset:02d}{born.day:02d}{serial:04d}"
    control = (10 - weighted(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10
    return body + str(control)


def make_nip(rng: random.Random) -> str:
    while True:
        body = f"{rng.randrange(1, 10)}{rng.randrange(10**8):08d}"
        control = weighted(body, (6, 5, 7, 2, 3, 4, 5, 6, 7)) % 11
        if control != 10:
            return body + str(control)


def make_regon9(rng: random.Random) -> str:
    body = f"{rng.randrange(1, 10**8):08d}"
    return body + str(weighted(body, (8, 9, 2, 3, 4, 5, 6, 7)) % 11 % 10)


def make_regon14(rng: random.Random) -> str:
    body = make_regon9(rng) + f"{rng.randrange(10**4):04d}"
    return body + str(weighted(body, (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)) % 11 % 10)


def other_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize(("kind", "number"), KNOWN_VALID)
def test_known_valid_numbers(kind: IdentifierKind, number: str) -> None:
    assert normalise(kind, number) == number


@pytest.mark.parametrize(("kind", "number"), KNOWN_VALID)
def test_known_numbers_with_another_control_digit_are_refused(
    kind: IdentifierKind, number: str
) -> None:
    with pytest.raises(InvalidInput, match=rf"^{kind.value}: .*checksum"):
        normalise(kind, other_last_digit(number))


@pytest.mark.parametrize(
    "born",
    [date(1850, 1, 31), date(1944, 5, 14), date(2000, 2, 29), date(2024, 12, 1), date(2150, 6, 6)],
)
def test_generated_pesels_of_every_century_are_valid(born: date) -> None:
    for serial in (0, 1234, 9999):
        pesel = make_pesel(born, serial)
        assert normalise(PESEL, pesel) == pesel
        with pytest.raises(InvalidInput):
            normalise(PESEL, other_last_digit(pesel))


def test_generated_nips_and_regons_are_valid_and_a_changed_digit_is_not() -> None:
    rng = random.Random(20261128)
    for _ in range(200):
        for kind, number in (
            (NIP, make_nip(rng)),
            (REGON, make_regon9(rng)),
            (REGON, make_regon14(rng)),
        ):
            assert normalise(kind, number) == number
            with pytest.raises(InvalidInput):
                normalise(kind, other_last_digit(number))


@pytest.mark.parametrize(
    "pesel",
    [
        make_pesel(date(1999, 2, 28), 1).replace("990228", "990230", 1),  # 30 February
        make_pesel(date(2001, 4, 30), 1).replace("012430", "012431", 1),  # 31 April
        make_pesel(date(1999, 2, 28), 1).replace("9902", "9913", 1),  # month 13
    ],
    ids=["30 February", "31 April", "month 13"],
)
def test_a_pesel_with_an_impossible_birth_date_is_refused(pesel: str) -> None:
    # Recompute the control digit so only the date is wrong.
    body = pesel[:10]
    pesel = body + str((10 - weighted(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10)
    with pytest.raises(InvalidInput, match=r"^pesel: the number is not valid"):
        normalise(PESEL, pesel)


def test_a_nip_whose_checksum_is_ten_is_never_valid() -> None:
    body = next(
        f"{n:09d}"
        for n in range(100000000, 100001000)
        if weighted(f"{n:09d}", (6, 5, 7, 2, 3, 4, 5, 6, 7)) % 11 == 10
    )
    for last in "0123456789":
        with pytest.raises(InvalidInput):
            normalise(NIP, body + last)


def test_a_regon_whose_checksum_is_ten_ends_in_zero() -> None:
    body = next(
        f"{n:08d}"
        for n in range(10000000, 10001000)
        if weighted(f"{n:08d}", (8, 9, 2, 3, 4, 5, 6, 7)) % 11 == 10
    )
    assert normalise(REGON, body + "0") == body + "0"


def test_a_14_digit_regon_needs_a_valid_9_digit_prefix() -> None:
    rng = random.Random(7)
    regon14 = make_regon14(rng)
    prefix = other_last_digit(regon14[:9])
    body = prefix + regon14[9:13]
    control = weighted(body, (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)) % 11 % 10
    with pytest.raises(InvalidInput, match=r"^regon: "):
        normalise(REGON, body + str(control))


@pytest.mark.parametrize(
    ("kind", "number"),
    [(PESEL, "4405140135"), (NIP, "526025027"), (REGON, "12345678"), (REGON, "1234567851234")],
)
def test_wrong_lengths_are_refused(kind: IdentifierKind, number: str) -> None:
    with pytest.raises(InvalidInput, match="wrong length or checksum"):
        normalise(kind, number)


@pytest.mark.parametrize(("kind", "number"), [(NIP, "0000000000"), (REGON, "000000000")])
def test_all_zeros_is_a_placeholder_not_a_number(kind: IdentifierKind, number: str) -> None:
    with pytest.raises(InvalidInput, match="all zeros"):
        normalise(kind, number)


def test_spaces_and_hyphens_are_dropped() -> None:
    assert normalise(NIP, "526-025-02-74") == "5260250274"
    assert normalise(NIP, " 526 025 02 74 ") == "5260250274"
    assert normalise(REGON, "123-456-785") == "123456785"


@pytest.mark.parametrize("value", ["PL5260250274", "526.025.02.74", "５２６０２５０２７４", ""])
def test_anything_but_ascii_digits_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match=r"^nip: must contain only digits"):
        normalise(NIP, value)


def test_mask_shows_only_the_last_three_digits() -> None:
    assert mask("5260250274") == "*******274"
    assert mask("44051401359") == "********359"
    assert mask("12345678512347") == "***********347"


def test_keyed_hash_is_stable_and_depends_on_key_and_kind() -> None:
    key = b"k" * 32
    digits = "123456785"
    value = keyed_hash(key, REGON, digits)
    assert value == keyed_hash(key, REGON, digits)
    assert len(value) == 64
    assert int(value, 16) >= 0
    assert digits not in value
    assert keyed_hash(b"other-key" * 4, REGON, digits) != value
    # A NIP and a REGON that happen to share digits are different identifiers.
    assert keyed_hash(key, NIP, "5260250274") != keyed_hash(key, REGON, "5260250274")
    assert keyed_hash(key, REGON, "192598184") != value


def test_a_number_found_in_mail_hashes_as_the_registry_stores_it() -> None:
    # The same checksum code on both sides: what the mail side finds, the registry matches.
    key = b"k" * 32
    for kind, number in KNOWN_VALID:
        found = Identifier(kind, number)
        assert identifier_hash(key, found) == keyed_hash(key, kind, normalise(kind, number))
        assert number not in repr(found) and repr(found).endswith(mask(number) + ")")
