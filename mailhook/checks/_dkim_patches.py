"""The two process-wide replacements of dkimpy functions, made by ``apply()`` and only here.

Each puts a faster function in place of one of dkimpy's, giving the same answers:

- ``dkim.RSASSA_PKCS1_v1_5_verify`` becomes ``_dkim_keys._rsa_verify``: an RSA signature
  checked by OpenSSL through ``cryptography`` where that gives exactly dkimpy's answer,
  by dkimpy's own code otherwise (most of the DKIM check's CPU was dkimpy's pure-Python
  RSA). dkimpy's ``verify_sig_process`` calls it by its module-level name, so nothing
  short of replacing that name reaches it.
- ``dkim.canonicalization.Relaxed.canonicalize_headers`` becomes
  ``_dkim_relaxed.relaxed_headers``: RFC 6376 §3.4.2 relaxed header canonicalisation by
  byte replacements instead of two regular expressions per header (a twentieth of
  verifying a message with ARC and DKIM). It is the same for signing: ``dkim.sign`` in
  the tests canonicalises with it too, to the same bytes.
- ``dkim.canonicalization.Relaxed.canonicalize_body`` becomes
  ``_dkim_relaxed.relaxed_body``: RFC 6376 §3.4.4 relaxed body canonicalisation without
  dkimpy's two whole-body regexes where they would change nothing (20 ms per MB).

Both were compared with dkimpy 1.1 (pyproject.toml holds ``dkimpy`` to that minor
release; a new one must pass these tests before the bound moves):
tests/mailhook/checks/test_dkim_keys.py and test_dkim_relaxed.py compare each function
with the one it replaces, and test_dkim_patches.py runs the dkim and arc checks over every
fixture with dkimpy as released and as patched, for the same findings.

Why applied lazily by the verifying code, not at start-up by each entry point: the
checks that verify (dkim, arc) call ``apply()`` before they hand anything to dkimpy, so
no door (SMTP, pipe, REST, milter, ``intakeguard check``, a test, a benchmark) can
verify mail with dkimpy unpatched or has to remember a start-up call, and a door added
later cannot forget it. Once applied, each later call costs one test of a flag. Importing
any module changes nothing: a program that imports ``mailhook`` to parse mail keeps its
dkimpy as it was, and the tests can compare the released and the patched dkimpy
(``unpatched()``). The replacements give dkimpy's answers, so the only thing that can
differ between before and after the first verification is speed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dkim
import dkim.canonicalization

from mailhook.checks._dkim_keys import _rsa_verify
from mailhook.checks._dkim_relaxed import relaxed_body, relaxed_headers


@dataclass(frozen=True, slots=True)
class Patch:
    """``owner.attribute`` replaced by ``replacement`` (``released`` is dkimpy's own)."""

    owner: Any
    attribute: str
    replacement: Any
    released: Any

    @classmethod
    def of(cls, owner: Any, attribute: str, replacement: Any) -> Patch:
        # From __dict__, so that a class keeps its staticmethod object as it was.
        return cls(owner, attribute, replacement, vars(owner)[attribute])

    def put(self, value: Any) -> None:
        setattr(self.owner, self.attribute, value)

    @property
    def in_place(self) -> bool:
        return vars(self.owner)[self.attribute] is self.replacement


PATCHES: tuple[Patch, ...] = (
    Patch.of(dkim, "RSASSA_PKCS1_v1_5_verify", _rsa_verify),
    Patch.of(dkim.canonicalization.Relaxed, "canonicalize_headers", staticmethod(relaxed_headers)),
    Patch.of(dkim.canonicalization.Relaxed, "canonicalize_body", staticmethod(relaxed_body)),
)

_lock = threading.Lock()
_applied = False
# While unpatched() holds dkimpy as released, apply() leaves it so.
_held = False


def apply() -> None:
    """Put every replacement in place, once per process; later calls do nothing."""
    global _applied
    if _applied or _held:
        return
    with _lock:
        if _applied or _held:
            return
        for patch in PATCHES:
            patch.put(patch.replacement)
        _applied = True


def applied() -> bool:
    """Whether dkimpy runs with every replacement in place."""
    return all(patch.in_place for patch in PATCHES)


@contextmanager
def unpatched() -> Iterator[None]:
    """dkimpy as released for the block, the replacements back after it if they were in
    place: for tests comparing the two. Not for a process verifying mail meanwhile."""
    global _applied, _held
    with _lock:
        was_applied, _applied, _held = _applied, False, True
        for patch in PATCHES:
            patch.put(patch.released)
    try:
        yield
    finally:
        with _lock:
            _held = False
        if was_applied:
            apply()
