"""Signed checkpoints of the audit chain: its size and head hash at a time, signed.

The chain is unkeyed: whoever can write to the database can rewrite an entry and every
hash after it, or delete the newest entries with their records, and the chain still
verifies. A checkpoint kept outside the database ends that: it is signed with the
verdict-signing key (Ed25519, app.signing), and ``audit verify --checkpoint`` proves the
chain still holds the entry it names with the same hash, which (the hashes linking every
entry to the one before) means every earlier entry is unchanged and none is gone.

The text is in the spirit of transparency-log checkpoints (C2SP tlog-checkpoint, signed
note): an origin line, the size, the head hash and the time, a blank line, then one
signature line ``— <key id> <base64url signature of the body>``. Several checkpoints
may follow one another in a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.chain import head, timestamp
from app.db.models import AuditCheckpoint
from app.db.types import utcnow
from app.signing import PublicKey, VerdictSigner

ORIGIN = "intakeguard audit chain"
_DASH = "\u2014 "


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A chain head: ``size`` entries, the last with ``head_hash``, at ``signed_at``."""

    size: int
    head_hash: str
    signed_at: str
    key_id: str = ""
    signature: str = ""

    def body(self) -> bytes:
        return f"{ORIGIN}\n{self.size}\n{self.head_hash}\n{self.signed_at}\n".encode()

    def text(self) -> str:
        return f"{self.body().decode()}\n{_DASH}{self.key_id} {self.signature}\n"


class CheckpointError(ValueError):
    """A checkpoint text that cannot be read or whose signature is not ours."""


def sign_head(session: Session, signer: VerdictSigner) -> Checkpoint:
    """Sign the chain's head now and keep the checkpoint (in the caller's transaction)."""
    size, head_hash = head(session)
    unsigned = Checkpoint(size, head_hash, timestamp(utcnow()))
    checkpoint = Checkpoint(
        size, head_hash, unsigned.signed_at, signer.key_id, signer.sign_text(unsigned.body())
    )
    session.add(
        AuditCheckpoint(
            size=size, head_hash=head_hash, signed_at=checkpoint.signed_at, note=checkpoint.text()
        )
    )
    session.flush()
    return checkpoint


def recent(session: Session, limit: int) -> list[AuditCheckpoint]:
    """The newest ``limit`` checkpoints kept, newest first."""
    return list(
        session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(limit))
    )


def parse(text: str, keys: PublicKey | Sequence[PublicKey]) -> list[Checkpoint]:
    """Every checkpoint in ``text``, each checked to be signed by one of ``keys``.

    The service's own key (a ``VerdictSigner``), or public keys an auditor holds: this
    service's, and those it signed with before a rotation of its secret key.
    """
    accepted = {key.key_id: key for key in ([keys] if isinstance(keys, PublicKey) else keys)}
    lines = text.replace("\r\n", "\n").split("\n")
    checkpoints: list[Checkpoint] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        checkpoints.append(_one(lines[index : index + 6], index + 1, accepted))
        index += 6
    if not checkpoints:
        raise CheckpointError("no checkpoint found")
    return checkpoints


def _one(lines: list[str], line: int, keys: dict[str, PublicKey]) -> Checkpoint:
    if len(lines) < 6 or lines[0] != ORIGIN or lines[4] != "" or not lines[5].startswith(_DASH):
        raise CheckpointError(
            f"line {line}: not a checkpoint (expected {ORIGIN!r}, size, head hash, time, "
            "a blank line and a signature line)"
        )
    try:
        size = int(lines[1])
    except ValueError:
        raise CheckpointError(f"line {line + 1}: the size {lines[1]!r} is not a number") from None
    key_id, _, signature = lines[5][len(_DASH) :].partition(" ")
    checkpoint = Checkpoint(size, lines[2], lines[3], key_id, signature)
    key = keys.get(key_id)
    if key is None:
        raise CheckpointError(
            f"line {line}: the checkpoint is signed by {key_id!r}, not by this service's key "
            f"{' or '.join(repr(k) for k in keys)}; refused"
        )
    if not key.verifies(checkpoint.body(), signature):
        raise CheckpointError(f"line {line}: the checkpoint's signature does not verify; refused")
    return checkpoint
