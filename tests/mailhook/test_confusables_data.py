"""mailhook/_confusables_data.py is what its generator makes of the pinned confusables.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.generators import confusables_data as generator
from mailhook import _confusables_data as data

COMMITTED = Path(data.__file__)


def test_the_committed_table_is_the_generators_output() -> None:
    try:
        source = generator.source_text()
    except LookupError as exc:
        pytest.skip(f"the data file cannot be read: {exc}")
    assert COMMITTED.read_text(encoding="utf-8") == generator.module_text(source), (
        "mailhook/_confusables_data.py is edited or stale: run python fixtures/regenerate.py"
    )


def test_the_table_names_its_unicode_version_and_maps_the_known_look_alikes() -> None:
    assert data.UNICODE_VERSION == "13.0.0"
    assert data.PROTOTYPES["\u0430"] == "a"  # CYRILLIC SMALL LETTER A
    assert data.PROTOTYPES["\u03bf"] == "o"  # GREEK SMALL LETTER OMICRON
    assert data.PROTOTYPES["\u0585"] == "o"  # ARMENIAN SMALL LETTER OH
    assert data.PROTOTYPES["\u13aa"] == "A"  # CHEROKEE LETTER GO
    assert data.PROTOTYPES["m"] == "rn"
    assert "\u2019" in data.APOSTROPHES  # RIGHT SINGLE QUOTATION MARK


def test_only_latin_prototypes_are_kept() -> None:
    assert all(generator.is_latin(prototype) for prototype in data.PROTOTYPES.values())
    assert not generator.is_latin("\u05d5")  # HEBREW LETTER VAV
    assert not generator.is_latin("\u0301")  # a mark alone
