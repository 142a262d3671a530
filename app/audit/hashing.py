"""The hashes of the audit chain: of a record, of an entry, of personal data beside one.

A leaf: appending entries (app.audit.chain), the records that commit to their rows
(verdicts, reviews, verifications) and verifying the chain (app.records.audit_verify)
all hash through here, so none of them needs another to compute a digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from app.signing import canonical_json

# The prev_hash of the first entry.
GENESIS = "0" * 64


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON: what an entry commits to about a row."""
    return sha256_hex(canonical_json(record))


def personal_digest(salt: str, data: str) -> str:
    # A JSON pair, not a concatenation: no character can move between salt and data.
    return sha256_hex(canonical_json([salt, data]))


def entry_hash(
    seq: int, recorded_at: str, kind: str, subject: str, payload: str, prev_hash: str
) -> str:
    """The hash of one entry: its fields, its payload's digest and its predecessor."""
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "recorded_at": recorded_at,
                "kind": kind,
                "subject": subject,
                "payload_sha256": sha256_hex(payload.encode()),
                "prev_hash": prev_hash,
            }
        )
    )
