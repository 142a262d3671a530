"""/metrics after real traffic: SMTP and REST doors, DNS on loopback, both databases."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from app import metrics
from app.decision.service import DecisionService
from app.server.handoff import InProcessHandoff
from mailhook.smtp_config import SmtpConfig
from tests.app.server.test_shutdown import free_port, running
from tests.dns_server import FixtureDnsServer
from tests.mailhook.test_smtp import self_signed_context
from tests.smtp_server import SmtpThread
from tests.support import TLS, make_message

DESK = "support@hosting.example"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client) -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, sorted labels), and every family's type, from /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in after, f"{name}{labels} missing from /metrics"
    return after[key] - before.get(key, 0.0)


@pytest.fixture
def smtp(service: DecisionService) -> Iterator[SmtpThread]:
    with SmtpThread(lambda: InProcessHandoff(service), SmtpConfig(recipients=(DESK,))) as server:
        yield server


def send(
    port: int, raw: bytes, rcpt: str = DESK, mail_from: str = "jan@acme.pl"
) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("mx.acme.pl")
        client.mail(mail_from)
        code, reply = client.rcpt(rcpt)
        if code != 250:
            return code, reply
        return client.data(raw)


def test_metrics_after_smtp_api_and_dns_traffic(
    api: httpx.Client, smtp: SmtpThread, dns_faults: dict[str, str]
) -> None:
    before, _ = scrape(api)

    # Two messages from the same domain: the second is answered from the DNS cache.
    assert send(smtp.port, make_message(subject="Duplikat faktury 12/2026"))[0] == 250
    assert send(smtp.port, make_message(subject="Pytanie o acme.pl"))[0] == 250
    assert send(smtp.port, make_message(), rcpt="nobody@elsewhere.example")[0] == 550
    posted = api.post(
        "/v1/messages",
        content=make_message(subject="Transfer domeny acme.pl"),
        params={"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"},
        headers={"Content-Type": "message/rfc822"},
    )
    assert posted.status_code == 201, posted.text
    # A domain not asked about yet, whose DMARC record cannot be had: a 451, no verdict.
    dns_faults["_dmarc.strict.pl"] = "servfail"
    stranger = make_message(sender="Ewa <ewa@strict.pl>", subject="Pytanie")
    assert send(smtp.port, stranger, mail_from="ewa@strict.pl")[0] == 451

    after, types = scrape(api)
    received = "intakeguard_messages_received_total"
    assert delta(before, after, received, door="smtp") == 3
    assert delta(before, after, received, door="api") == 1
    verdicts = "intakeguard_verdicts_total"
    verdict = posted.json()
    for kind in verdict["instruction"]["kinds"]:
        assert delta(before, after, verdicts, decision=verdict["decision"], kind=kind) == 1
    # Once per instruction kind a verdict names ("none" when it names none).
    recorded = api.get("/v1/verdicts", params={"limit": 50}).json()["items"]
    assert len(recorded) == 3
    counted = sum(v for (name, _), v in after.items() if name == verdicts)
    counted -= sum(v for (name, _), v in before.items() if name == verdicts)
    assert counted == sum(max(1, len(v["instruction"]["kinds"])) for v in recorded)
    checks = "intakeguard_check_results_total"
    assert delta(before, after, checks, check="from-mailbox", result="pass") == 4
    assert delta(before, after, checks, check="dmarc", result="temperror") == 1
    assert delta(before, after, "intakeguard_dns_queries_total") >= 4
    assert delta(before, after, "intakeguard_dns_cache_hits_total") >= 1
    assert delta(before, after, "intakeguard_dns_temperrors_total") >= 1
    replies = "intakeguard_smtp_replies_total"
    assert delta(before, after, replies, code="220") == 4
    # EHLO (one reply of several lines), MAIL and RCPT in four sessions, less the RCPT
    # refused with 550; and the two messages recorded at the end of DATA.
    assert delta(before, after, replies, code="250") == 4 * 3 - 1 + 2
    assert delta(before, after, replies, code="354") == 3
    assert delta(before, after, replies, code="550") == 1
    assert delta(before, after, replies, code="451") == 1
    assert delta(before, after, replies, code="221") == 4
    # The client has its 221 a moment before the server sees the connection close.
    assert settles_at(api, 0)
    # Only the recorded three were timed into the store; all four were verified.
    assert delta(before, after, "intakeguard_verification_seconds_count") == 4
    assert delta(before, after, "intakeguard_recording_seconds_count") == 3
    assert delta(before, after, "intakeguard_recording_seconds_sum") > 0
    assert types["intakeguard_verification_seconds"] == "histogram"
    assert types["intakeguard_smtp_sessions_open"] == "gauge"
    assert ("intakeguard_webhook_failures_total", ()) in after
    assert ("intakeguard_outbox_backlog", ()) in after
    # Each recorded verdict is a link in the audit chain (app.audit.chain) of the emptied store.
    assert after[("intakeguard_audit_chain_length", ())] >= 3


def sessions_open(api: httpx.Client) -> float:
    return scrape(api)[0][("intakeguard_smtp_sessions_open", ())]


def settles_at(api: httpx.Client, wanted: float) -> bool:
    """Whether the open-session gauge reaches ``wanted`` (the server closes after QUIT)."""
    deadline = time.monotonic() + 10
    while sessions_open(api) != wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_an_open_session_is_counted_until_it_ends(api: httpx.Client, smtp: SmtpThread) -> None:
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=30) as client:
        client.ehlo("mx.acme.pl")
        assert sessions_open(api) == 1
    assert settles_at(api, 0)


def test_a_starttls_session_is_one_session(
    api: httpx.Client, service: DecisionService, tmp_path: Path
) -> None:
    config = SmtpConfig(recipients=(DESK,), tls_context=self_signed_context(tmp_path))
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    with SmtpThread(lambda: InProcessHandoff(service), config) as server:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
            client.ehlo("mx.acme.pl")
            assert client.starttls(context=client_context)[0] == 220
            client.ehlo("mx.acme.pl")
            # RFC 3207: the session starts again over TLS; it is still the one session.
            assert sessions_open(api) == 1
        assert settles_at(api, 0)


def test_a_registered_outbox_backlog_is_reported(api: httpx.Client) -> None:
    metrics.register_outbox_backlog(lambda: 7)
    try:
        samples, _ = scrape(api)
    finally:
        metrics.register_outbox_backlog(None)
    assert samples[("intakeguard_outbox_backlog", ())] == 7
    metrics.WEBHOOK_FAILURES.inc()
    again, _ = scrape(api)
    assert again[("intakeguard_webhook_failures_total", ())] >= 1
    assert again[("intakeguard_outbox_backlog", ())] == 0


def test_a_missing_table_is_left_out_not_an_error(service: DecisionService) -> None:
    engine = create_engine("sqlite://")
    metrics.bind_store(engine)
    try:
        families = {f.name for f in text_string_to_metric_families(metrics.exposition().decode())}
    finally:
        metrics.bind_store(service.sessions.kw["bind"])
        engine.dispose()
    assert "intakeguard_audit_chain_length" not in families
    assert "intakeguard_messages_received" in families


def test_smtp_alone_serves_metrics_on_its_own_port(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    address = f"127.0.0.1:{free_port()}"
    with running(tmp_path, dns_server, "smtp", "--metrics-listen", address) as service:
        service.wait_until_listening(service.smtp_port)
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            assert client.noop()[0] == 250
        with httpx.Client(verify=TLS, base_url=f"http://{address}", timeout=10) as client:
            samples, _ = scrape(client)
        service.terminate()
        assert service.wait() == 0, service.stderr()
    assert samples[("intakeguard_smtp_replies_total", (("code", "220"),))] >= 1
    assert ("intakeguard_audit_chain_length", ()) in samples
