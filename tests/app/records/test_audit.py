"""The audit hash chain: every writer appends, any altered byte is found, appends stay linear."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from app.audit import hashing
from app.audit.chain import append
from app.auth import create_token
from app.db.engine import make_engine, session_factory
from app.db.migrate import MIGRATIONS, upgrade
from app.db.models import AuditEntry, AuditPersonal, Base, Review
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.records import audit_verify
from tests.app.api.common import KOWALSKI, register, submit
from tests.app.cli.test_cli import EX_DATAERR, intakeguard
from tests.support import SECRET_KEY, make_message

FROM_ACME = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}


def build_chain(api: httpx.Client, service: DecisionService) -> list[AuditEntry]:
    """A registry change, two verdicts, a change with personal data and a deletion."""
    assert register(api).status_code == 201
    accepted = submit(api, make_message(subject="Pytanie o domene acme.pl"), **FROM_ACME)
    assert accepted.json()["decision"] == "accepted", accepted.text
    spoofed = submit(api, make_message(sender="kto@evil.example", subject="Transfer acme.pl"))
    assert spoofed.json()["decision"] == "rejected", spoofed.text
    assert api.put("/v1/customers/kowalska", json=KOWALSKI).status_code == 201
    assert api.delete("/v1/customers/kowalska").status_code == 204
    return entries(service)


def entries(service: DecisionService) -> list[AuditEntry]:
    with service.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verify(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/v1/audit/verify")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def tamper(service: DecisionService, sql: str, **params: Any) -> None:
    """Change the store behind the application's back, as someone with database access."""
    with service.sessions.kw["bind"].begin() as connection:
        assert connection.execute(text(sql), params).rowcount == 1  # type: ignore[attr-defined]


def altered(value: str) -> str:
    """``value`` with one character, in its middle, replaced by another."""
    middle = len(value) // 2
    replacement = "x" if value[middle] != "x" else "y"
    return value[:middle] + replacement + value[middle + 1 :]


def test_every_writer_appends_and_the_chain_verifies(
    api: httpx.Client, service: DecisionService
) -> None:
    chain = build_chain(api, service)
    assert [e.kind for e in chain] == [
        "customer_put",
        "verdict",
        "verdict",
        "customer_put",
        "customer_delete",
    ]
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == hashing.GENESIS
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in pairwise(chain))
    report = verify(api)
    assert report == {
        "intact": True,
        "entries": 5,
        "head_hash": chain[-1].entry_hash,
        "broken_seq": None,
        "problem": None,
        "erased_personal_records": 0,
    }


def test_the_chain_keeps_personal_data_out_of_entries(
    api: httpx.Client, service: DecisionService
) -> None:
    chain = build_chain(api, service)
    kowalska = chain[3]
    assert kowalska.subject == "kowalska"
    for entry in chain:
        for secret in ("Anna Kowalska", "anna@kowalska.example", "jan@acme.pl", "ACME sp."):
            assert secret not in entry.payload
    with service.sessions() as session:
        side = session.get(AuditPersonal, kowalska.seq)
    assert side is not None
    assert "anna@kowalska.example" in side.data
    assert hashing.personal_digest(side.salt, side.data) in kowalska.payload


def test_a_verdict_entry_commits_to_the_signed_verdict_and_the_raw_message(
    api: httpx.Client, service: DecisionService
) -> None:
    verdict = submit(api, make_message(subject="Pytanie o domene acme.pl"), **FROM_ACME).json()
    entry = next(e for e in entries(service) if e.kind == "verdict")
    assert entry.subject == verdict["id"]
    assert hashing.record_digest(verdict) in entry.payload
    assert '"message_sha256":"' in entry.payload


ENTRY_COLUMNS = [column.name for column in AuditEntry.__table__.columns]


@pytest.mark.parametrize("column", ENTRY_COLUMNS)
def test_altering_any_column_of_an_entry_is_found_at_that_entry(
    api: httpx.Client, service: DecisionService, column: str
) -> None:
    build_chain(api, service)
    target = 3  # the spoofed message's verdict: in the middle, without personal data
    if column == "seq":
        tamper(service, "UPDATE audit_entries SET seq = seq + 1000 WHERE seq = :seq", seq=target)
    else:
        with service.sessions() as session:
            value = session.execute(
                text(f"SELECT {column} FROM audit_entries WHERE seq = :seq"), {"seq": target}
            ).scalar_one()
        tamper(
            service,
            f"UPDATE audit_entries SET {column} = :value WHERE seq = :seq",
            value=altered(value),
            seq=target,
        )
    report = verify(api)
    assert report["intact"] is False
    assert report["broken_seq"] == target, report
    assert report["entries"] == target - 1


@pytest.mark.parametrize("column", ["salt", "data"])
def test_altering_personal_side_data_is_found_at_its_entry(
    api: httpx.Client, service: DecisionService, column: str
) -> None:
    build_chain(api, service)
    with service.sessions() as session:
        value = session.execute(
            text(f"SELECT {column} FROM audit_personal WHERE entry_seq = 4")
        ).scalar_one()
    tamper(
        service,
        f"UPDATE audit_personal SET {column} = :value WHERE entry_seq = 4",
        value=altered(value),
    )
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, 4), report
    assert "personal data was altered" in report["problem"]


def test_a_deleted_entry_is_named_as_missing(api: httpx.Client, service: DecisionService) -> None:
    build_chain(api, service)
    tamper(service, "DELETE FROM audit_entries WHERE seq = 2")
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, 2), report
    assert "entry 2 is missing" in report["problem"]


def test_personal_data_deleted_without_an_erasure_entry_is_found(
    api: httpx.Client, service: DecisionService
) -> None:
    build_chain(api, service)
    tamper(service, "DELETE FROM audit_personal WHERE entry_seq = 1")
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, 1), report
    assert "without an erasure entry" in report["problem"]


def test_audit_verify_needs_the_audit_scope(api: httpx.Client, service: DecisionService) -> None:
    token = _token(service, "verdicts:read")
    response = api.get("/v1/audit/verify", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403, response.text


def _token(service: DecisionService, scope: str) -> str:
    with service.sessions.begin() as session:
        return create_token(session, "reader", [scope])


def test_cli_audit_verify_exits_0_intact_and_65_broken(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Any
) -> None:
    build_chain(api, service)
    # No secret key given: verifying recomputes plain SHA-256, so an auditor needs none.
    intact = intakeguard("audit", "verify", cwd=tmp_path, database_url=database_url)
    assert intact.returncode == 0, intact.stderr
    assert "audit chain intact: 5 entries" in intact.stdout
    tamper(service, "UPDATE audit_entries SET kind = 'review' WHERE seq = 2")
    broken = intakeguard("audit", "verify", cwd=tmp_path, database_url=database_url)
    assert broken.returncode == EX_DATAERR, broken.stderr
    assert "audit chain broken at entry 2" in broken.stderr
    helped = intakeguard("audit", "verify", "--help", cwd=tmp_path, database_url=database_url)
    assert "65 (EX_DATAERR)" in helped.stdout


APPENDERS = 4
APPENDS_EACH = 15


def test_concurrent_appenders_through_separate_engines_make_one_linear_chain(
    service: DecisionService, database_url: str
) -> None:
    """Several "replicas" (each its own engine and pool) append at once."""
    start = threading.Barrier(APPENDERS)
    failures: list[BaseException] = []

    def appender(number: int) -> None:
        engine = make_engine(database_url)
        sessions = session_factory(engine)
        try:
            start.wait()
            for n in range(APPENDS_EACH):
                with sessions.begin() as session:
                    append(session, "test", f"appender-{number}", {"n": n})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=appender, args=(i,)) for i in range(APPENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with service.sessions() as session:
        chain = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        report = audit_verify.verify_chain(session)
    assert [e.seq for e in chain] == list(range(1, APPENDERS * APPENDS_EACH + 1))
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in pairwise(chain))
    # Each appender's own entries stay in its order: nothing was lost or reordered.
    for number in range(APPENDERS):
        mine = [e.payload for e in chain if e.subject == f"appender-{number}"]
        assert mine == [f'{{"n":{n}}}' for n in range(APPENDS_EACH)]
    assert report.intact and report.entries == APPENDERS * APPENDS_EACH


OURS = {"audit_entries", "audit_personal", "reviews", "agent_actions", "messages"}


def only_ours(_: object, name: str | None, kind: str, *__: object) -> bool:
    # Alembic's include_object hook: the tables of migration 0004, on both sides.
    return kind != "table" or name in OURS


def test_migration_0004_matches_the_models_and_downgrades(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0004")
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": only_ours, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
        command.downgrade(alembic_config(engine), "0003")
        assert set(inspect(engine).get_table_names()).isdisjoint(OURS - {"messages"})
        assert "purged_at" not in {c["name"] for c in inspect(engine).get_columns("messages")}
        upgrade(engine, "0004")
    finally:
        engine.dispose()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def assert_new_table_migrates(url: str, table: str, previous: str) -> None:
    """The migration creating ``table`` matches the model, downgrades and upgrades again."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_object": lambda _, name, kind, *__: kind != "table" or name == table,
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
        command.downgrade(alembic_config(engine), previous)
        assert table not in inspect(engine).get_table_names()
        upgrade(engine)
    finally:
        engine.dispose()


def test_verifications_document_receipts_and_imports_append_entries(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    assert register(api).status_code == 201
    call = {"channel": "phone", "service": "acme.pl", "agent": "agent.ola", "nip": "5260250274"}
    verification = api.post("/v1/verifications", json=call).json()
    assert verification["stage"] == "identified", verification
    postal = submit(api, make_message(subject="Cesja domeny acme.pl"), **FROM_ACME).json()
    checked = {"name": True, "address": False, "signature_or_stamp": True}
    documents = api.post(
        f"/v1/verdicts/{postal['id']}/documents", json={"agent": "agent.ola", "checked": checked}
    )
    assert documents.status_code == 201, documents.text
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "login,kind,name,panel_email,pesel,nip,regon,services\n"
        "acme,company,ACME SA,jan@acme.pl,,,,acme.pl\n"
        "nowak,person,Jan Nowak,jan@nowak.example,,,,nowak.pl\n"
    )
    imported = intakeguard(
        "customers", "import", csv, cwd=tmp_path, database_url=database_url, secret_key=SECRET_KEY
    )
    assert imported.returncode == 0, imported.stderr
    chain = entries(service)
    assert [(e.kind, e.subject) for e in chain] == [
        ("customer_put", "acme"),
        ("verification", verification["id"]),
        ("verdict", postal["id"]),
        ("document_receipt", postal["id"]),
        ("customer_put", "acme"),  # updated by the import
        ("customer_put", "nowak"),  # created by the import
    ]
    assert '"stage":"identified"' in chain[1].payload
    assert "5260250274" not in "".join(e.payload for e in chain)
    assert verify(api)["intact"] is True


def build_decisions(api: httpx.Client) -> dict[str, str]:
    """A verdict of each kind agents act on, a superseded review, an action, a verification
    and a document receipt; returns their ids by role."""
    assert register(api).status_code == 201
    spoofed = submit(api, make_message(sender="kto@evil.example", subject="Transfer acme.pl"))
    assert spoofed.json()["decision"] == "rejected", spoofed.text
    otp = submit(api, make_message(subject="Kod authinfo dla acme.pl"), **FROM_ACME).json()
    assert otp["decision"] == "otp_required", otp["reasons"]
    decision = {"decision": "accepted", "agent": "agent.ola", "reason": "Code read by phone."}
    first = api.post(f"/v1/verdicts/{otp['id']}/review", json=decision).json()
    action = {"agent": "agent.ola", "action": "authinfo_sent", "details": "d", "login": "acme"}
    acted = api.post(f"/v1/verdicts/{otp['id']}/actions", json=action).json()
    correction = {**decision, "decision": "rejected", "supersedes": first["id"]}
    second = api.post(f"/v1/verdicts/{otp['id']}/review", json=correction).json()
    call = {"channel": "phone", "service": "acme.pl", "agent": "agent.ola", "nip": "5260250274"}
    verification = api.post("/v1/verifications", json=call).json()
    postal = submit(api, make_message(subject="Cesja domeny acme.pl"), **FROM_ACME).json()
    checked = {"name": True, "address": False, "signature_or_stamp": True}
    receipt = api.post(
        f"/v1/verdicts/{postal['id']}/documents", json={"agent": "agent.ola", "checked": checked}
    ).json()
    assert verify(api)["intact"] is True
    return {
        "rejected": spoofed.json()["id"],
        "first_review": first["id"],
        "superseding_review": second["id"],
        "action": acted["id"],
        "verification": verification["id"],
        "receipt": receipt["id"],
        "postal": postal["id"],
    }


def _seq_recording(service: DecisionService, row_id: str) -> int:
    """The seq of the (first) entry whose payload names ``row_id``."""
    return next(e.seq for e in entries(service) if f'"{row_id}"' in e.payload)


@pytest.mark.parametrize(
    ("role", "sql", "problem"),
    [
        ("rejected", "UPDATE verdicts SET decision = 'accepted' WHERE id = :id", "was changed"),
        ("first_review", "UPDATE reviews SET decision = 'rejected' WHERE id = :id", "changed"),
        ("superseding_review", "UPDATE reviews SET reason = 'ok' WHERE id = :id", "changed"),
        ("superseding_review", "DELETE FROM reviews WHERE id = :id", "is gone"),
        ("action", "UPDATE agent_actions SET login = 'kowalska' WHERE id = :id", "changed"),
        ("verification", "UPDATE verifications SET stage = 'authorized' WHERE id = :id", "changed"),
        ("receipt", "UPDATE document_receipts SET agent = 'x' WHERE id = :id", "changed"),
    ],
)
def test_an_edited_or_deleted_recorded_row_is_found_at_its_entry(
    api: httpx.Client, service: DecisionService, role: str, sql: str, problem: str
) -> None:
    ids = build_decisions(api)
    seq = _seq_recording(service, ids[role])
    tamper(service, sql, id=ids[role])
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, seq), report
    assert ids[role] in report["problem"] and problem in report["problem"], report
    assert report["entries"] == seq - 1


def test_a_receipt_made_complete_behind_the_records_back_is_found(
    api: httpx.Client, service: DecisionService
) -> None:
    ids = build_decisions(api)
    tamper(
        service,
        "UPDATE document_receipts SET complete = :yes, completes_verdict = :verdict WHERE id = :id",
        yes=True,
        verdict=ids["postal"],
        id=ids["receipt"],
    )
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (
        False,
        _seq_recording(service, ids["receipt"]),
    )


def test_a_row_no_entry_records_is_found(api: httpx.Client, service: DecisionService) -> None:
    ids = build_decisions(api)
    forged = str(uuid.uuid4())
    with service.sessions.begin() as session:
        verdict_id = session.scalar(
            select(Review.verdict_id).where(Review.id == ids["first_review"])
        )
        session.add(
            Review(
                id=forged,
                verdict_id=verdict_id,
                recorded_at=utcnow(),
                decision="accepted",
                agent="agent.ola",
                reason="Forged.",
                supersedes=ids["superseding_review"],
            )
        )
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, None), report
    assert f"review {forged} is stored without an audit entry" in report["problem"]
    assert report["entries"] == len(entries(service))


def test_cli_names_a_row_without_an_entry(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Any
) -> None:
    ids = build_decisions(api)
    tamper(service, "DELETE FROM audit_entries WHERE seq = (SELECT MAX(seq) FROM audit_entries)")
    broken = intakeguard("audit", "verify", cwd=tmp_path, database_url=database_url)
    assert broken.returncode == EX_DATAERR, broken.stderr
    assert f"audit chain broken: the document receipt {ids['receipt']}" in broken.stderr


def test_rows_older_than_the_chain_need_no_entry(
    api: httpx.Client, service: DecisionService
) -> None:
    """The chain starts at migration 0004: rows recorded before it have no entries."""
    ids = build_decisions(api)
    with service.sessions.begin() as session:
        verdict_id = session.scalar(
            select(Review.verdict_id).where(Review.id == ids["first_review"])
        )
        session.add(
            Review(
                id=str(uuid.uuid4()),
                verdict_id=verdict_id,
                recorded_at=utcnow() - timedelta(days=400),
                decision="accepted",
                agent="agent.ola",
                reason="Before the chain.",
            )
        )
    assert verify(api)["intact"] is True
