"""Log lines: JSON per line, the request id from door to verdict, no identifiers in clear."""

from __future__ import annotations

import io
import json
import logging
import smtplib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.decision.rules import load_rules
from app.decision.service import DecisionService
from app.logs import JsonFormatter, RequestIdFilter, TextFormatter, redact
from app.server.handoff import HttpHandoff, InProcessHandoff
from mailhook.message import Channel, Envelope, parse_message
from mailhook.smtp_config import SmtpConfig
from mailhook.tracing import request_id
from tests.app.server.test_shutdown import running
from tests.dns_server import FixtureDnsServer
from tests.smtp_server import SmtpThread
from tests.support import ADMIN_TOKEN, RULES, make_message

DESK = "support@hosting.example"
# Valid by checksum: these must never reach a log line.
PESEL, NIP, REGON = "44051401359", "5260001246", "123456785"


@pytest.fixture
def intake_lines() -> Iterator[io.StringIO]:
    """What app.decision.service logs, as the JSON handler of ``intakeguard serve`` writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("app.decision.service")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(saved)


def verdict_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if "verdict_id" in line]


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("app.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_has_the_standard_fields_and_the_extras() -> None:
    line = json.loads(JsonFormatter().format(record("hello %s", "world", verdict_id="v-1")))
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "app.test"
    assert line["ts"].endswith("+00:00")
    assert line["verdict_id"] == "v-1"
    assert "request_id" not in line


def test_an_exception_stays_on_one_line() -> None:
    try:
        raise ValueError(f"bad input with NIP {NIP}")
    except ValueError:
        made = record("failed")
        made.exc_info = sys.exc_info()
    text = JsonFormatter().format(made)
    assert "\n" not in text
    line = json.loads(text)
    assert "ValueError" in line["exception"]
    assert NIP not in text
    assert "[nip]" in line["exception"]


def test_identifiers_are_redacted_in_messages_and_extras() -> None:
    made = record("caller gave %s and %s", PESEL, "526-000-12-46", note=f"REGON {REGON}")
    for formatter in (JsonFormatter(), TextFormatter()):
        text = formatter.format(made)
        for number in (PESEL, NIP, "526-000-12-46", REGON):
            assert number not in text
        assert "[pesel]" in text and "[nip]" in text and "[regon]" in text
    # Numbers that fail every checksum, ports and dates are left alone.
    assert redact("port 2525, 12345678901, 2026-11-28") == "port 2525, 12345678901, 2026-11-28"


@pytest.mark.parametrize(
    ("written", "scrubbed"),
    [
        pytest.param("kod: 1234-5678.", "kod: [code removed].", id="hyphenated"),
        pytest.param("code 1234 5678, ok", "code [code removed], ok", id="two-groups-spaced"),
        pytest.param("(12345678)", "([code removed])", id="eight-digits-in-brackets"),
        pytest.param("kod=12345678", "kod=[code removed]", id="after-an-equals-sign"),
        pytest.param("1234\u20135678", "[code removed]", id="an-en-dash-between-groups"),
        pytest.param("code_12345678_used", "code_[code removed]_used", id="underscores-separate"),
        pytest.param(
            "kody 1111-2222 i 3333 4444", "kody [code removed] i [code removed]", id="two-codes"
        ),
        pytest.param(
            "konto 1234 5678 9012 3456",
            "konto 1234 5678 9012 3456",
            id="a-longer-grouped-number-is-no-code",
        ),
        pytest.param("srv-12345678", "srv-12345678", id="a-hyphen-joined-server-id-is-no-code"),
        pytest.param("12345678-ab12-4c3d", "12345678-ab12-4c3d", id="a-uuid-group-is-no-code"),
        pytest.param("id a12345678b", "id a12345678b", id="digits-inside-a-word"),
        pytest.param("123456789 and 1234567", "123456789 and 1234567", id="nine-or-seven-digits"),
        pytest.param("2026-11-28 12:30", "2026-11-28 12:30", id="a-date-and-time"),
    ],
)
def test_what_is_shaped_like_a_one_time_code_is_scrubbed(written: str, scrubbed: str) -> None:
    assert redact(written) == scrubbed


def test_every_code_the_catalogue_reads_in_mail_is_scrubbed() -> None:
    pattern = load_rules(RULES).catalogue.code_pattern
    assert pattern is not None
    for written in ("kod: 1234-5678", "Kod jednorazowy 1234 5678", "code=12345678."):
        [match] = pattern.finditer(written)
        assert match.group(1) not in redact(written), written
        assert "[code removed]" in redact(written)


@pytest.mark.parametrize(
    ("written", "redacted"),
    [
        ("NIP PL5260001246.", "NIP [nip]."),
        ("VAT pl 5260001246", "VAT pl [nip]"),
        ("NIP 526 000 12 46, ok", "NIP [nip], ok"),
        ("NIP 526 00 01 246", "NIP [nip]"),
        ("nip_changed_to_5260001246", "nip_changed_to_[nip]"),
        (f"{PESEL}/{REGON}", "[pesel]/[regon]"),
    ],
)
def test_every_form_the_mail_side_recognises_is_redacted(written: str, redacted: str) -> None:
    assert redact(written) == redacted
    for formatter in (JsonFormatter(), TextFormatter()):
        assert NIP not in formatter.format(record("caller wrote %s", written))


def test_one_line_per_message_with_ids_decision_and_timing(
    service: DecisionService, intake_lines: io.StringIO
) -> None:
    message = parse_message(
        make_message(subject=f"Moj PESEL {PESEL}"),
        Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl"),
        Channel.PIPE,
    )
    token = request_id.set("pipe-test0001")
    try:
        verdict = service.submit(message)
    finally:
        request_id.reset(token)
    [line] = verdict_lines(intake_lines)
    assert line["verdict_id"] == verdict["id"]
    assert line["message_id"] == message.message_id
    assert line["decision"] == verdict["decision"]
    assert line["channel"] == "pipe"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["request_id"] == "pipe-test0001"
    assert PESEL not in intake_lines.getvalue()
    assert "jan@acme.pl" not in intake_lines.getvalue()


def test_the_smtp_session_id_reaches_the_verdict_line(
    service: DecisionService, intake_lines: io.StringIO
) -> None:
    config = SmtpConfig(recipients=(DESK,))
    with SmtpThread(lambda: InProcessHandoff(service), config) as server:
        for _ in range(2):
            with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
                client.ehlo("mx.acme.pl")
                client.mail("jan@acme.pl")
                client.rcpt(DESK)
                code, reply = client.data(make_message())
            assert code == 250
    first, second = verdict_lines(intake_lines)
    assert first["request_id"].startswith("smtp-")
    assert first["channel"] == "smtp"
    # One id per session; the 250 reply names the verdict the line is about.
    assert second["request_id"] != first["request_id"]
    assert reply.decode().endswith(second["verdict_id"])


def test_the_api_takes_a_callers_request_id_or_makes_one(
    api: httpx.Client, intake_lines: io.StringIO
) -> None:
    posted = api.post(
        "/v1/messages",
        content=make_message(),
        params={"client_ip": "192.0.2.10", "mail_from": "jan@acme.pl"},
        headers={"Content-Type": "message/rfc822", "X-Request-ID": "ticket-4711"},
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["X-Request-ID"] == "ticket-4711"
    [line] = verdict_lines(intake_lines)
    assert line["request_id"] == "ticket-4711"
    assert line["channel"] == "api"
    # An id that could forge log content is replaced, not echoed.
    forged = api.get("/healthz", headers={"X-Request-ID": 'x", "level": "ERROR'})
    assert forged.headers["X-Request-ID"].startswith("http-")


def test_the_smtp_session_id_travels_to_a_remote_api(
    api: httpx.Client, intake_lines: io.StringIO
) -> None:
    config = SmtpConfig(recipients=(DESK,))
    remote = str(api.base_url)
    with (
        SmtpThread(lambda: HttpHandoff(remote, ADMIN_TOKEN), config) as server,
        smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client,
    ):
        client.ehlo("mx.acme.pl")
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
    [line] = verdict_lines(intake_lines)
    # Logged by the API, under the id of the SMTP session the message came in.
    assert line["request_id"].startswith("smtp-")
    assert line["channel"] == "smtp"


def smtp_then_api_then_stop(tmp_path: Path, dns: FixtureDnsServer, *args: str) -> str:
    """Run ``intakeguard serve ARGS``: one message by SMTP, one API query; its stderr."""
    with running(tmp_path, dns, "serve", *args) as service:
        service.wait_until_listening(service.smtp_port)
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            client.sendmail("jan@acme.pl", ["support@desk.example"], make_message())
        listed = httpx.get(
            f"{service.http_url}/v1/verdicts",
            params={"customer": "jan@acme.pl", "limit": 5},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        )
        assert listed.status_code in (200, 422), listed.text
        service.terminate()
        assert service.wait() == 0, service.stderr()
        return service.stderr()


def test_serve_logs_one_json_object_per_line(tmp_path: Path, dns_server: FixtureDnsServer) -> None:
    stderr = smtp_then_api_then_stop(tmp_path, dns_server)
    lines = [json.loads(line) for line in stderr.splitlines()]
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= line.keys(), line
    [verdict] = [line for line in lines if "verdict_id" in line]
    assert verdict["request_id"].startswith("smtp-")
    assert {"message_id", "decision", "duration_ms", "channel"} <= verdict.keys()
    [access] = [line for line in lines if line.get("path") == "/v1/verdicts"]
    assert access["logger"] == "uvicorn.access"
    assert access["method"] == "GET"
    assert access["request_id"].startswith("http-")
    # Query strings carry addresses (mail_from, rcpt, customer filters): never logged.
    assert "jan@acme.pl" not in stderr
    assert any(line["message"] == "stopped" for line in lines)


def test_serve_logs_text_when_asked(tmp_path: Path, dns_server: FixtureDnsServer) -> None:
    stderr = smtp_then_api_then_stop(tmp_path, dns_server, "--log-format", "text")
    lines = stderr.splitlines()
    assert lines and not any(line.startswith("{") for line in lines)
    [verdict] = [line for line in lines if "verdict_id=" in line]
    assert " INFO app.decision.service [smtp-" in verdict
    assert "jan@acme.pl" not in stderr


def test_the_intake_route_has_no_access_line_at_info_but_its_verdict_line(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve") as service:
        service.wait_until_listening(service.smtp_port)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "message/rfc822"}
        posted = httpx.post(
            f"{service.http_url}/v1/messages", content=make_message(), headers=headers, timeout=30
        )
        assert posted.status_code == 201, posted.text
        refused = httpx.post(
            f"{service.http_url}/v1/messages", content=b"", headers=headers, timeout=30
        )
        assert refused.status_code >= 400
        service.terminate()
        assert service.wait() == 0, service.stderr()
    lines = [json.loads(line) for line in service.stderr().splitlines()]
    [verdict] = [line for line in lines if "verdict_id" in line]
    assert verdict["channel"] == "api"
    access = [line for line in lines if line.get("path") == "/v1/messages"]
    # The refused one only: a failure is worth its line.
    assert [line["status"] for line in access] == [refused.status_code]
