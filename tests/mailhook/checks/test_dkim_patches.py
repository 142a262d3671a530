"""dkimpy's replacements: made by apply() only, once, and giving dkimpy's own findings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dkim
import dkim.canonicalization
import dkim.crypto
import pytest

from mailhook.checks import _dkim_patches, arc
from mailhook.checks import dkim as dkim_check
from mailhook.checks._dkim_keys import _rsa_verify
from mailhook.checks._dkim_relaxed import _dkimpy_relaxed_headers, relaxed_headers
from mailhook.context import CheckContext, TrustConfig
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES, REPO

MAIL = sorted((FIXTURES / "mail").glob("*.eml"))
# Every sealer of the fixtures trusted, so that a valid chain is judged all the way.
SEALERS = TrustConfig(trusted_arc_sealers=frozenset({"lists.example", "forwarder.example"}))


def released() -> dict[str, object]:
    """What dkimpy itself has in the places the patches take."""
    return {
        "rsa": dkim.crypto.RSASSA_PKCS1_v1_5_verify,
        "relaxed": _dkimpy_relaxed_headers,
    }


def in_place() -> dict[str, object]:
    return {
        "rsa": dkim.RSASSA_PKCS1_v1_5_verify,
        "relaxed": dkim.canonicalization.Relaxed.canonicalize_headers,
    }


def test_the_session_verifies_with_the_replacements() -> None:
    # tests/conftest.py applies them before any test, as the first verification would.
    assert _dkim_patches.applied()
    assert in_place() == {"rsa": _rsa_verify, "relaxed": relaxed_headers}


def test_apply_again_changes_nothing() -> None:
    before = in_place()
    _dkim_patches.apply()
    _dkim_patches.apply()
    assert in_place() == before
    assert _dkim_patches.applied()


def test_unpatched_is_dkimpy_as_released_until_the_block_ends() -> None:
    with _dkim_patches.unpatched():
        assert not _dkim_patches.applied()
        assert dkim.RSASSA_PKCS1_v1_5_verify is dkim.crypto.RSASSA_PKCS1_v1_5_verify
        assert vars(dkim.canonicalization.Relaxed)["canonicalize_headers"] is (
            _dkim_patches.PATCHES[1].released
        )
        # What a check would call first: held off while the block compares.
        _dkim_patches.apply()
        assert not _dkim_patches.applied()
    assert _dkim_patches.applied()


def test_importing_patches_nothing_and_the_first_verification_applies_them() -> None:
    # A fresh interpreter: every door's modules imported, dkimpy still as released;
    # the first DKIM check (no resolver needed to reach dkimpy) puts the replacements in.
    script = f"""
import app.api, app.cli.main, app.server.serving, mailhook.receiver
from mailhook.checks import _dkim_patches
from mailhook.checks.dkim import check_dkim
from mailhook.context import CheckContext
from mailhook.message import Channel, Envelope, parse_message
assert not _dkim_patches.applied(), "patched by an import"
raw = open({str(FIXTURES / "mail" / "dkim-pass-rsa2048.eml")!r}, "rb").read()
check_dkim(parse_message(raw, Envelope(), Channel.PIPE), CheckContext(resolver=None))
assert _dkim_patches.applied(), "not patched by the first verification"
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def findings(path: Path, resolver: Resolver) -> tuple[Finding, Finding]:
    message = parse_message(path.read_bytes(), Envelope(), Channel.API)
    context = CheckContext(resolver=resolver, trust=SEALERS)
    return dkim_check.check_dkim(message, context), arc.check_arc(message, context)


@pytest.mark.parametrize("path", MAIL, ids=lambda path: path.name)
def test_released_and_patched_dkimpy_find_the_same_in_every_fixture(
    path: Path, dns_server: FixtureDnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver([dns_server.address], timeout=0.5)
    patched = findings(path, resolver)
    # dkimpy as released: its own functions, and its own classes without the key cache.
    monkeypatch.setattr(dkim_check, "DKIM", dkim.DKIM)
    monkeypatch.setattr(arc, "ARC", dkim.ARC)
    with _dkim_patches.unpatched():
        assert in_place() == released()
        unpatched = findings(path, resolver)
    assert patched == unpatched
