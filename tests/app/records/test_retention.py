"""Raw message retention and customer erasure: data goes, the record still verifies."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, select, text, update
from sqlalchemy.engine import make_url

from app.db.models import AuditEntry, OutboxDelivery, OutboxEvent, StoredMessage, Verdict
from app.db.types import utcnow
from app.decision.checks import customer_match
from app.decision.service import DecisionService
from app.records import audit_verify, erasure
from app.records.retention import PURGE_BATCH, RetentionWorker, run_retention
from tests.app.api.common import ACME, assert_error, register, submit
from tests.app.cli.test_cli import EX_DATAERR, intakeguard
from tests.support import SECRET_KEY, make_message

FROM_ACME = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
MARKER = "Znacznik-tresci-4711"


def jan_writes(api: httpx.Client, body: str = f"{MARKER} pytanie o acme.pl.\n") -> dict[str, Any]:
    response = submit(api, make_message(subject="Pytanie o domene acme.pl", body=body), **FROM_ACME)
    assert response.status_code == 201, response.text
    verdict: dict[str, Any] = response.json()
    assert verdict["customer"] == "acme", verdict["reasons"]
    return verdict


def age_messages(service: DecisionService, days: int) -> None:
    with service.sessions.begin() as session:
        session.execute(update(StoredMessage).values(received_at=utcnow() - timedelta(days=days)))


def chain_report(service: DecisionService) -> audit_verify.ChainReport:
    with service.sessions() as session:
        return audit_verify.verify_chain(session)


def test_retention_empties_old_raw_messages_and_keeps_verdicts_and_hashes(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    old = jan_writes(api)
    age_messages(service, 91)
    recent = jan_writes(api, body="Drugie pytanie o acme.pl.\n")
    assert run_retention(service.sessions, days=90) == 1
    with service.sessions() as session:
        stored = {m.sha256: m for m in session.scalars(select(StoredMessage))}
        old_sha = session.scalar(select(Verdict.message_sha256).where(Verdict.id == old["id"]))
        purge = session.scalar(select(AuditEntry).where(AuditEntry.kind == "retention_purge"))
    assert old_sha is not None and purge is not None
    assert stored[old_sha].raw == b"" and stored[old_sha].purged_at is not None
    assert [m.raw != b"" for sha, m in stored.items() if sha != old_sha] == [True]
    assert old_sha in purge.payload
    assert api.get(f"/v1/verdicts/{old['id']}").json() == old
    assert api.get(f"/v1/verdicts/{recent['id']}").json() == recent
    report = chain_report(service)
    assert report.intact and report.entries == 4, report  # customer, 2 verdicts, purge
    assert run_retention(service.sessions, days=90) == 0


def test_the_same_bytes_after_a_purge_still_get_their_first_verdict(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    raw = make_message(subject="Pytanie o domene acme.pl", body="Raz.\n")
    first = submit(api, raw, **FROM_ACME).json()
    age_messages(service, 200)
    assert run_retention(service.sessions, days=90) == 1
    assert submit(api, raw, **FROM_ACME).json() == first


def test_retention_works_in_batches(service: DecisionService) -> None:
    count = PURGE_BATCH + 3
    with service.sessions.begin() as session:
        session.add_all(
            StoredMessage(sha256=f"{n:064x}", raw=b"x", received_at=utcnow() - timedelta(days=100))
            for n in range(count)
        )
    assert run_retention(service.sessions, days=90) == count
    report = chain_report(service)
    assert report.intact and report.entries == 2, report


def test_cli_retention_run(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    assert register(api).status_code == 201
    jan_writes(api)
    age_messages(service, 40)
    kept = intakeguard("retention", "run", cwd=tmp_path, database_url=database_url)
    assert kept.returncode == 0, kept.stderr
    assert "emptied 0 raw message(s) older than 90 days" in kept.stdout
    purged = intakeguard(
        "retention", "run", cwd=tmp_path, database_url=database_url, raw_retention_days="30"
    )
    assert purged.returncode == 0, purged.stderr
    assert "emptied 1 raw message(s) older than 30 days" in purged.stdout


def database_text(service: DecisionService) -> dict[str, str]:
    """Every table's every row as text: what someone reading the database would find."""
    engine = service.sessions.kw["bind"]
    dump: dict[str, str] = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            dump[table] = "\n".join(
                " ".join(
                    value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    for value in row
                )
                for row in rows
            )
    return dump


def test_erasure_removes_personal_data_and_the_chain_still_verifies(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    verdict = jan_writes(api)
    renamed = {**ACME, "name": "ACME Polska sp. z o.o."}
    assert api.put("/v1/customers/acme", json=renamed).status_code == 200
    masked_nip = api.get("/v1/customers/acme").json()["nip"]
    other = api.put(
        "/v1/customers/kowalska",
        json={"panel_email": "anna@kowalska.example", "kind": "person", "name": "Anna Kowalska"},
    )
    assert other.status_code == 201
    before = database_text(service)
    assert MARKER in before["messages"] and "ACME sp. z o.o." in before["audit_personal"]

    response = api.post(
        "/v1/customers/acme/erasure", json={"agent": "dpo.ewa", "reason": "Art. 17 request 2026/11"}
    )
    assert response.status_code == 201, response.text
    erased = response.json()
    assert erased["customer_removed"] is True
    assert (erased["personal_records_erased"], erased["raw_messages_erased"]) == (2, 1)
    assert erased["verdicts_kept"] == 1

    after = database_text(service)
    everything = "\n".join(after.values())
    for personal in ("ACME sp. z o.o.", "ACME Polska", masked_nip, MARKER, "mx.acme.pl"):
        assert personal not in everything, personal
    # The panel address survives only inside the signed verdict, as its checks quoted it;
    # the outbox's copy of that verdict for ticketing is replaced by an "erased" marker.
    assert "jan@acme.pl" in before["outbox_events"]
    holders = {t for t, rows in after.items() if "jan@acme.pl" in rows}
    assert holders == {"verdicts"}
    assert "Anna Kowalska" in after["audit_personal"]  # other customers keep their data
    assert_error(api.get("/v1/customers/acme"), 404, "not_found")
    kept = api.get(f"/v1/verdicts/{verdict['id']}").json()
    assert kept == verdict

    report = api.get("/v1/audit/verify").json()
    assert report["intact"] is True, report
    assert report["erased_personal_records"] == 2
    with service.sessions() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last is not None and last.kind == "erasure" and last.seq == erased["audit_entry"]
    assert "Art. 17 request" in last.payload


def test_erasing_an_unknown_customer_is_404(api: httpx.Client) -> None:
    body = {"agent": "dpo.ewa", "reason": "request"}
    assert_error(api.post("/v1/customers/nobody/erasure", json=body), 404, "not_found", "nobody")


def bytes_of(path: Path) -> bytes:
    """The file's bytes, read by another process.

    Opening and closing a SQLite file in a process that has it open through SQLite
    drops that process's POSIX locks on it (sqlite.org/howtocorrupt.html §2.2): another
    process may then reset the write-ahead log under live connections.
    """
    script = "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"
    return subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, check=True
    ).stdout


def test_cli_customers_erase(
    api: httpx.Client, service: DecisionService, database_url: str, tmp_path: Path
) -> None:
    assert register(api).status_code == 201
    jan_writes(api)
    args = ("customers", "erase", "acme", "--agent", "dpo.ewa", "--reason", "request 7")
    erased = intakeguard(*args, cwd=tmp_path, database_url=database_url, secret_key=SECRET_KEY)
    assert erased.returncode == 0, erased.stderr
    assert "erased customer acme: 1 personal record(s), 1 raw message(s)" in erased.stdout
    assert chain_report(service).intact
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Not only out of the tables: out of the file and its write-ahead log.
        files = [Path(url.database or ""), Path(f"{url.database}-wal")]
        stored = b"".join(bytes_of(path) for path in files if path.exists())
        for personal in (MARKER, "ACME sp. z o.o.", "*******274"):
            assert personal.encode() not in stored, personal
    unknown = intakeguard(
        "customers", "erase", "nobody", "--agent", "a", "--reason", "r",
        cwd=tmp_path, database_url=database_url,
    )  # fmt: skip
    assert unknown.returncode == EX_DATAERR
    assert "nothing is stored about a customer with login 'nobody'" in unknown.stderr


def test_retention_empties_finished_outbox_copies_and_keeps_what_is_still_owed(
    service: DecisionService,
) -> None:
    old, recent = utcnow() - timedelta(days=100), utcnow() - timedelta(days=1)
    verdict_copy = {"id": "v", "customer": "acme", "reasons": ["jan@acme.pl wrote"]}

    def event(name: str, created: Any, dispatched: bool) -> OutboxEvent:
        return OutboxEvent(
            id=name,
            event="verdict.recorded",
            data=verdict_copy,
            created_at=created,
            dispatched_at=created if dispatched else None,
        )

    def delivery(name: str, event_seq: int, kind: str, status: str) -> OutboxDelivery:
        return OutboxDelivery(
            id=name,
            kind=kind,
            subscription_id=None,
            event_seq=event_seq,
            event="verdict.recorded",
            payload={"to": "jan@acme.pl", "login": "acme"} if kind == "alert" else None,
            status=status,
            attempts=1,
            next_attempt_at=old,
            created_at=old,
        )

    with service.sessions.begin() as session:
        events = [
            event("finished", old, True),
            event("owed", old, True),
            event("undispatched", old, False),
            event("recent", recent, True),
        ]
        session.add_all(events)
        session.flush()
        session.add_all(
            [
                delivery("sent-alert", events[0].seq, "alert", "delivered"),
                delivery("pending-webhook", events[1].seq, "webhook", "pending"),
                delivery("pending-alert", events[1].seq, "alert", "pending"),
            ]
        )
    run_retention(service.sessions, days=90)
    with service.sessions() as session:
        data = {e.id: e.data for e in session.scalars(select(OutboxEvent))}
        payloads = {d.id: d.payload for d in session.scalars(select(OutboxDelivery))}
    assert data == {
        "finished": {"purged": True},
        "owed": verdict_copy,
        "undispatched": verdict_copy,
        "recent": verdict_copy,
    }
    assert payloads["sent-alert"] is None
    assert payloads["pending-alert"] == {"to": "jan@acme.pl", "login": "acme"}


def test_the_server_s_retention_worker_purges_on_its_own(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    jan_writes(api)
    age_messages(service, 91)
    worker = RetentionWorker(service.sessions, days=90, first_delay=0)
    worker.start()
    try:
        for _ in range(200):
            with service.sessions() as session:
                if session.scalar(select(StoredMessage.purged_at)) is not None:
                    break
            threading.Event().wait(0.05)
        else:
            raise AssertionError("the worker did not purge the old raw message within 10 s")
    finally:
        worker.stop()
    assert chain_report(service).intact


def test_erasure_keeps_a_third_partys_rejected_attempt_as_evidence(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    own = jan_writes(api)
    attempt = f"Prosze o kod AuthInfo dla acme.pl. Slad-oszusta-{MARKER}\n"
    raw = make_message(sender="kto@evil.example", subject="Transfer domeny acme.pl", body=attempt)
    spoofed = submit(api, raw, client_ip="198.51.100.7", helo="mx.evil.example").json()
    assert (spoofed["decision"], spoofed["customer"]) == ("rejected", "acme"), spoofed
    body = {"agent": "dpo.ewa", "reason": "Art. 17 request"}
    erased = api.post("/v1/customers/acme/erasure", json=body).json()
    assert (erased["raw_messages_erased"], erased["verdicts_kept"]) == (1, 2)
    with service.sessions() as session:
        stored = {
            row.id: (row.envelope, session.get(StoredMessage, row.message_sha256))
            for row in session.scalars(select(Verdict))
        }
    envelope, message = stored[spoofed["id"]]
    assert message is not None and b"Slad-oszusta" in message.raw
    assert envelope["client_ip"] == "198.51.100.7" and envelope["helo"] == "mx.evil.example"
    envelope, message = stored[own["id"]]
    assert message is not None and message.raw == b"" and envelope == {"erased": True}
    assert chain_report(service).intact


def test_erasure_removes_the_free_text_of_reviews_and_actions_from_the_chain(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    otp = submit(api, make_message(subject="Kod authinfo dla acme.pl"), **FROM_ACME).json()
    assert otp["decision"] == "otp_required", otp["reasons"]
    reason = {"decision": "accepted", "agent": "agent.ola", "reason": "Pani Zofia potwierdzila."}
    assert api.post(f"/v1/verdicts/{otp['id']}/review", json=reason).status_code == 201
    action = {"agent": "agent.ola", "action": "authinfo_sent", "details": "Dla Pani Zofii."}
    response = api.post(f"/v1/verdicts/{otp['id']}/actions", json={**action, "login": "acme"})
    assert response.status_code == 201, response.text
    chained = database_text(service)
    assert (
        "Zofi" not in chained["audit_entries"] and "authinfo_sent" not in chained["audit_entries"]
    )
    assert "Pani Zofia" in chained["audit_personal"] and "Pani Zofii" in chained["audit_personal"]
    body = {"agent": "dpo.ewa", "reason": "Art. 17 request"}
    erased = api.post("/v1/customers/acme/erasure", json=body).json()
    # The registry entry's side data and those of the review and the action.
    assert erased["personal_records_erased"] == 3
    assert "Zofi" not in database_text(service)["audit_personal"]
    report = chain_report(service)
    assert report.intact and report.erased == 3


def test_an_erasure_request_with_control_characters_is_422(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    for body in ({"agent": "dpo\x00", "reason": "r"}, {"agent": "dpo", "reason": "r\x00"}):
        response = api.post("/v1/customers/acme/erasure", json=body)
        assert_error(response, 422, "invalid_request")
    assert api.get("/v1/customers/acme").status_code == 200


def test_the_records_name_the_customer_match_check_as_the_decision_does() -> None:
    assert erasure.CUSTOMER_MATCH == customer_match.NAME
