"""Signed checkpoints: truncation and rewrites after one are found; another key is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.checkpoints import CheckpointError, parse
from app.db.models import OutboxEvent
from app.decision.service import DecisionService
from app.records.checkpoints import CheckpointWorker, write_checkpoint
from app.signing import VerdictSigner
from tests.app.api.common import register, submit
from tests.app.cli.test_cli import EX_CONFIG, EX_DATAERR, EX_USAGE, intakeguard
from tests.app.records.test_audit import (
    FROM_ACME,
    assert_new_table_migrates,
    tamper,
    verify,
)
from tests.support import SECRET_KEY, make_message

OTHER_KEY = "another-secret-key-0123456789abcdef0123456789"


def verdict(api: httpx.Client, subject: str = "Pytanie o domene acme.pl") -> dict[str, Any]:
    response = submit(api, make_message(subject=subject), **FROM_ACME)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def checkpoint(service: DecisionService, key: str = SECRET_KEY) -> str:
    with service.sessions.begin() as session:
        return write_checkpoint(session, VerdictSigner(key.encode())).text()


def drop_newest_verdict(service: DecisionService, verdict_id: str) -> None:
    """Delete a verdict with its message, fingerprints and entry: the chain's newest."""
    tamper(service, "DELETE FROM message_fingerprints WHERE verdict_id = :id", id=verdict_id)
    tamper(
        service,
        "DELETE FROM messages WHERE sha256 = (SELECT message_sha256 FROM verdicts WHERE id = :id)",
        id=verdict_id,
    )
    tamper(service, "DELETE FROM verdicts WHERE id = :id", id=verdict_id)
    tamper(service, "DELETE FROM audit_entries WHERE subject = :id", id=verdict_id)


def post_verify(api: httpx.Client, text: str) -> httpx.Response:
    return api.post("/v1/audit/verify", content=text, headers={"Content-Type": "text/plain"})


def test_a_checkpoint_is_signed_text_kept_published_and_readable(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    verdict(api)
    text = checkpoint(service)
    lines = text.splitlines()
    assert lines[:2] == ["intakeguard audit chain", "2"]
    assert lines[4] == "" and lines[5].startswith("\u2014 ed25519:")
    [parsed] = parse(text, VerdictSigner(SECRET_KEY.encode()))
    assert parsed.size == 2 and parsed.head_hash == verify(api)["head_hash"]
    listed = api.get("/v1/audit/checkpoints")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["checkpoint"] == text and listed.json()[0]["size"] == 2
    with service.sessions() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.event == "audit.checkpoint"))
        assert [event.data["checkpoint"] for event in events] == [text]


def test_truncation_verifies_without_a_checkpoint_and_is_found_with_one(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    newest = verdict(api)
    text = checkpoint(service)
    assert post_verify(api, text).json()["intact"] is True
    drop_newest_verdict(service, newest["id"])
    # The documented gap: without a checkpoint, the shorter chain is a whole chain.
    assert verify(api)["intact"] is True
    report = post_verify(api, text).json()
    assert (report["intact"], report["broken_seq"]) == (False, 2), report
    assert "entries 2 to 2 were removed" in report["problem"]


def test_a_rewrite_after_a_checkpoint_is_found(api: httpx.Client, service: DecisionService) -> None:
    assert register(api).status_code == 201
    newest = verdict(api)
    earlier = checkpoint(service)
    second = verdict(api, subject="Drugie pytanie o acme.pl")
    later = checkpoint(service)
    drop_newest_verdict(service, second["id"])
    drop_newest_verdict(service, newest["id"])
    # Appending through the application after truncating rebuilds a whole chain.
    assert register(api, name="ACME S.A.").status_code in (200, 201)
    assert verify(api)["intact"] is True
    report = post_verify(api, earlier + "\n" + later).json()
    assert (report["intact"], report["broken_seq"]) == (False, 2), report
    assert "another hash" in report["problem"]


def test_cli_checkpoint_prints_it_and_verify_checks_every_one_in_the_file(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    assert register(api).status_code == 201
    newest = verdict(api)
    settings = {"database_url": database_url, "secret_key": SECRET_KEY}
    first = intakeguard("audit", "checkpoint", cwd=tmp_path, **settings)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("intakeguard audit chain\n2\n")
    second = intakeguard("audit", "checkpoint", cwd=tmp_path, **settings)
    kept = tmp_path / "checkpoints"
    kept.write_text(first.stdout + second.stdout)
    intact = intakeguard("audit", "verify", "--checkpoint", kept, cwd=tmp_path, **settings)
    assert intact.returncode == 0, intact.stderr
    drop_newest_verdict(service, newest["id"])
    assert intakeguard("audit", "verify", cwd=tmp_path, **settings).returncode == 0
    broken = intakeguard("audit", "verify", "--checkpoint", kept, cwd=tmp_path, **settings)
    assert broken.returncode == EX_DATAERR, broken.stderr
    assert "audit chain broken at entry 2" in broken.stderr


def test_a_checkpoint_from_another_key_is_refused(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    assert register(api).status_code == 201
    foreign = checkpoint(service, OTHER_KEY)
    with pytest.raises(CheckpointError, match="not by this service's key"):
        parse(foreign, VerdictSigner(SECRET_KEY.encode()))
    # The right key id with another key's signature: the signature does not verify.
    ours = checkpoint(service)
    forged = ours.rsplit(" ", 1)[0] + " " + foreign.rsplit(" ", 1)[1]
    with pytest.raises(CheckpointError, match="does not verify"):
        parse(forged, VerdictSigner(SECRET_KEY.encode()))
    response = post_verify(api, foreign)
    assert response.status_code == 422, response.text
    kept = tmp_path / "foreign"
    kept.write_text(foreign)
    refused = intakeguard(
        "audit", "verify", "--checkpoint", kept, cwd=tmp_path,
        database_url=database_url, secret_key=SECRET_KEY,
    )  # fmt: skip
    assert refused.returncode == EX_DATAERR
    assert "not by this service's key" in refused.stderr


def test_an_auditor_verifies_checkpoints_with_public_keys_and_no_secret(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    """The public key of GET /v1/keys is enough; keys of before a rotation can be given too."""
    assert register(api).status_code == 201
    verdict(api)
    [published] = api.get("/v1/keys").json()["keys"]
    old_key = VerdictSigner(OTHER_KEY.encode()).public_key
    kept = tmp_path / "checkpoints"
    # One checkpoint signed before a rotation of the secret key, one after.
    kept.write_text(checkpoint(service, OTHER_KEY) + checkpoint(service))
    auditor = {"database_url": database_url, "secret_key": None}

    def audit(*keys: str) -> Any:
        given = [arg for key in keys for arg in ("--public-key", key)]
        return intakeguard("audit", "verify", "--checkpoint", kept, *given, cwd=tmp_path, **auditor)

    both = audit(old_key, published["public_key"])
    assert both.returncode == 0, both.stderr
    assert "audit chain intact" in both.stdout
    only_new = audit(published["public_key"])
    assert only_new.returncode == EX_DATAERR
    assert f"signed by {VerdictSigner(OTHER_KEY.encode()).key_id!r}" in only_new.stderr
    # Without a key and without the secret: it says how to give one.
    no_key = audit()
    assert no_key.returncode == EX_CONFIG
    assert "--public-key" in no_key.stderr and "SECRET_KEY" in no_key.stderr
    bad = audit("not-a-key")
    assert bad.returncode == EX_USAGE
    assert "not an Ed25519 public key" in bad.stderr
    # A checkpoint rewritten by someone holding only the public key does not verify.
    forged = kept.read_text().replace("\n2\n", "\n1\n", 1)
    kept.write_text(forged)
    refused = audit(old_key, published["public_key"])
    assert refused.returncode == EX_DATAERR and "does not verify" in refused.stderr


def test_the_worker_writes_a_checkpoint(api: httpx.Client, service: DecisionService) -> None:
    assert register(api).status_code == 201
    worker = CheckpointWorker(service.sessions, service.signer, interval=timedelta(hours=1))
    written = worker.run_once()
    assert written.size == 1
    assert api.get("/v1/audit/checkpoints").json()[0]["checkpoint"] == written.text()


def test_migration_0007_matches_the_model_and_downgrades(empty_database: str) -> None:
    assert_new_table_migrates(empty_database, "audit_checkpoints", "0006")
