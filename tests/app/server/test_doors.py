"""The four doors (SMTP, milter, pipe, REST) give the same verdict for the same bytes."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import smtplib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth import create_token
from app.db.models import Base
from app.decision.service import DecisionService
from app.server.handoff import HttpHandoff, InProcessHandoff
from app.settings import Settings
from mailhook.milter import MilterConfig
from mailhook.smtp_config import SmtpConfig
from tests.bench.milter_load import MilterClient
from tests.milter_server import MilterThread
from tests.smtp_server import SmtpThread
from tests.support import ADMIN_TOKEN, FIXTURES, RULES, SECRET_KEY, LiveServer, make_message

INTAKEGUARD = Path(sys.executable).parent / "intakeguard"
DESK = "support@hosting.example"
ENVELOPE = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
ACME = {
    "panel_email": "jan@acme.pl",
    "kind": "company",
    "name": "ACME",
    "services": ["acme.pl"],
}
MESSAGES = {
    "from the panel address": make_message(subject="Duplikat faktury 12/2026 dla acme.pl"),
    "from a stranger": make_message(
        sender="Jan <jan.k@freemail.example>", subject="Transfer domeny acme.pl"
    ),
    "no usable From": make_message(sender="undisclosed-recipients:;"),
    # Never accepted, whichever door they come in by (a code, a review or a refusal).
    "held: a transfer riding on a request for an invoice": make_message(
        subject="Duplikat faktury 12/2026 dla acme.pl",
        body="Prosze o duplikat faktury 12/2026.\nProsze tez o kod authinfo do acme.pl.\n",
    ),
    "held: a request in a language the catalogue lacks": make_message(
        subject="acme.pl",
        body="Tolong pindahkan domain acme.pl ke registrar lain dan kirim kodenya.\n",
    ),
    "held: a transfer under a forged stamp and results header": make_message(
        subject="Transfer domeny acme.pl",
        body="Prosze o kod authinfo do transferu acme.pl.\n",
        Authentication_Results="intakeguard.test; dkim=pass header.d=acme.pl; dmarc=pass",
        X_Intakeguard_Verdict="accepted",
    ),
}
COMPARED = ("decision", "assurance", "customer", "instruction", "checks", "reasons")


def pipe_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "INTAKEGUARD_DATABASE_URL": settings.database_url,
        "INTAKEGUARD_SECRET_KEY": SECRET_KEY,
        "INTAKEGUARD_RULES_DIR": str(RULES),
        "INTAKEGUARD_DNS_NAMESERVERS": ",".join(settings.dns_nameservers),
        "INTAKEGUARD_DNS_TIMEOUT": "1",
    }


def pipe(settings: Settings, raw: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            str(INTAKEGUARD),
            "pipe",
            "--sender",
            ENVELOPE["mail_from"],
            "--recipient",
            DESK,
            "--client-ip",
            ENVELOPE["client_ip"],
            "--helo",
            ENVELOPE["helo"],
        ],
        input=raw,
        capture_output=True,
        env={**pipe_environment(settings), **env},
        timeout=60,
        check=False,
    )


def smtp_send(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo(ENVELOPE["helo"])
        client.mail(ENVELOPE["mail_from"])
        client.rcpt(DESK)
        return client.data(raw)


def smtp_config(**options: Any) -> SmtpConfig:
    # The test client connects from 127.0.0.1; as a trusted relay it may say, with
    # XFORWARD, which client and HELO the message really came from.
    import ipaddress

    return SmtpConfig(
        recipients=(DESK,),
        trusted_relays=(ipaddress.ip_network("127.0.0.1/32"),),
        **options,
    )


def smtp_send_forwarded(port: int, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("relay.hosting.example")
        client.docmd("XFORWARD", f"ADDR={ENVELOPE['client_ip']} HELO={ENVELOPE['helo']}")
        client.mail(ENVELOPE["mail_from"])
        client.rcpt(DESK)
        return client.data(raw)


def milter_config() -> MilterConfig:
    return MilterConfig(authserv_id="intakeguard.test")


def milter_send(port: int, raw: bytes) -> str:
    """``raw`` through the milter as Postfix hands it over; the reply (``250 stamped <id>``
    once the stamp and CONTINUE came, else the reply code the milter gave)."""
    return milter_conversation(port, raw)[0]


def milter_conversation(port: int, raw: bytes) -> tuple[str, dict[str, str]]:
    """The reply, and the headers the milter inserted (its stamp)."""
    envelope = (ENVELOPE["client_ip"], ENVELOPE["helo"], ENVELOPE["mail_from"], DESK)

    async def conversation() -> tuple[str, dict[str, str]]:
        client = await MilterClient.connect(port)
        try:
            reply = (await client.send(raw, envelope))[1]
            return reply, client.inserted
        finally:
            await client.close()

    return asyncio.run(conversation())


def clear_verdicts(service: DecisionService) -> None:
    with service.sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ("customers", "services", "api_tokens"):
                session.execute(table.delete())


@pytest.mark.parametrize("scenario", list(MESSAGES))
def test_every_door_gives_the_same_verdict(
    scenario: str, api: httpx.Client, service: DecisionService, settings: Settings
) -> None:
    assert api.put("/v1/customers/acme", json=ACME).status_code == 201
    raw = MESSAGES[scenario]
    verdicts: dict[str, dict[str, Any]] = {}

    response = api.post(
        "/v1/messages",
        content=raw,
        params=ENVELOPE,
        headers={"Content-Type": "message/rfc822"},
    )
    assert response.status_code == 201, response.text
    verdicts["api"] = response.json()

    doors: dict[str, Callable[[], str]] = {}

    def by_smtp() -> str:
        with SmtpThread(lambda: InProcessHandoff(service), smtp_config()) as server:
            code, reply = smtp_send_forwarded(server.port, raw)
        assert code == 250, reply
        return reply.decode().rpartition(" ")[2]

    def by_pipe() -> str:
        done = pipe(settings, raw)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode().split()[-1]

    def by_milter() -> str:
        with MilterThread(lambda: InProcessHandoff(service), milter_config()) as server:
            reply = milter_send(server.port, raw)
        assert reply.startswith("250 stamped "), reply
        return reply.rpartition(" ")[2]

    doors["smtp"] = by_smtp
    doors["milter"] = by_milter
    doors["pipe"] = by_pipe
    for door, deliver in doors.items():
        clear_verdicts(service)
        verdict_id = deliver()
        verdicts[door] = api.get(f"/v1/verdicts/{verdict_id}").json()
        assert verdicts[door].get("channel") == door, (verdict_id, verdicts[door])

    expected = {key: verdicts["api"][key] for key in COMPARED}
    for door in doors:
        assert {key: verdicts[door][key] for key in COMPARED} == expected, door
    if scenario.startswith("held:"):
        assert expected["decision"] != "accepted", expected["reasons"]


def test_smtp_to_a_remote_api_over_http(
    api: httpx.Client, live_api: LiveServer, service: DecisionService
) -> None:
    assert api.put("/v1/customers/acme", json=ACME).status_code == 201

    def handoff() -> HttpHandoff:
        return HttpHandoff(live_api.url, ADMIN_TOKEN)

    with SmtpThread(handoff, smtp_config()) as server:
        code, reply = smtp_send_forwarded(server.port, MESSAGES["from a stranger"])
    assert code == 250, reply
    verdict = api.get(f"/v1/verdicts/{reply.decode().rpartition(' ')[2]}").json()
    assert verdict["channel"] == "smtp"
    assert verdict["decision"] == "rejected"


def test_the_milter_to_a_remote_api_stamps_the_api_s_verdict(
    api: httpx.Client, live_api: LiveServer, service: DecisionService
) -> None:
    assert api.put("/v1/customers/acme", json=ACME).status_code == 201
    with MilterThread(lambda: HttpHandoff(live_api.url, ADMIN_TOKEN), milter_config()) as server:
        reply, stamp = milter_conversation(server.port, MESSAGES["from the panel address"])
    verdict = api.get(f"/v1/verdicts/{reply.rpartition(' ')[2]}").json()
    assert verdict["channel"] == "milter"
    # The API's verdict, as the milter read it from the JSON the API answered with.
    assert stamp["X-Intakeguard-Verdict"] == (
        f"accepted; assurance={verdict['assurance']}; customer=acme; id={verdict['id']}"
    )
    assert stamp["X-Intakeguard-Signature"] == verdict["signature"]
    assert stamp["Authentication-Results"].startswith("intakeguard.test; spf=pass; ")


def test_smtp_with_a_refused_token_is_a_temporary_failure(
    live_api: LiveServer, service: DecisionService
) -> None:
    with SmtpThread(
        lambda: HttpHandoff(live_api.url, "igt_not-a-token-we-know-of"), smtp_config()
    ) as server:
        code, reply = smtp_send(server.port, make_message())
    assert code == 451
    assert b"misconfigured" in reply


def test_smtp_with_the_api_down_is_a_temporary_failure(service: DecisionService) -> None:
    with SmtpThread(lambda: HttpHandoff("http://127.0.0.1:1", ADMIN_TOKEN), smtp_config()) as s:
        code, reply = smtp_send(s.port, make_message())
    assert code == 451
    assert b"unreachable" in reply


def test_pipe_exit_codes(
    settings: Settings, service: DecisionService, live_api: LiveServer
) -> None:
    assert pipe(settings, make_message()).returncode == 0
    unusable = pipe(settings, b"this is not a message\n")
    assert unusable.returncode == 65, unusable.stderr
    assert b"no RFC 5322 header section" in unusable.stderr
    down = pipe(settings, make_message(), INTAKEGUARD_DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    assert down.returncode == 75, down.stderr
    refused = pipe(
        settings,
        make_message(),
        INTAKEGUARD_API_URL=live_api.url,
        INTAKEGUARD_API_TOKEN="igt_not-a-token-we-know-of",
    )
    assert refused.returncode == 77, refused.stderr
    assert b"INTAKEGUARD_API_TOKEN" in refused.stderr
    remote = pipe(
        settings,
        make_message(),
        INTAKEGUARD_API_URL=live_api.url,
        INTAKEGUARD_API_TOKEN=ADMIN_TOKEN,
    )
    assert remote.returncode == 0, remote.stderr
    misconfigured = pipe(settings, make_message(), INTAKEGUARD_DNS_TIMEOUT="soon")
    assert misconfigured.returncode == 78
    assert b"INTAKEGUARD_DNS_TIMEOUT" in misconfigured.stderr


TRUSTED_RESULTS = (FIXTURES / "mail" / "trusted-authentication-results.eml").read_bytes()


@pytest.fixture
def trusting_our_mta(service: DecisionService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live service trusts mx.hosting.example's Authentication-Results, for one test."""
    trust = dataclasses.replace(
        service.trust, trusted_authserv_ids=frozenset({"mx.hosting.example"})
    )
    monkeypatch.setattr(service, "trust", trust)


def upstream_result(api: httpx.Client, verdict_id: str) -> str:
    verdict = api.get(f"/v1/verdicts/{verdict_id}").json()
    return next(c["result"] for c in verdict["checks"] if c["name"] == "upstream-results")


def test_the_pipe_is_a_hop_of_ours(
    api: httpx.Client, settings: Settings, service: DecisionService
) -> None:
    # The local MTA runs the pipe: the Authentication-Results on top are its own.
    done = pipe(settings, TRUSTED_RESULTS, INTAKEGUARD_TRUSTED_AUTHSERV_IDS="mx.hosting.example")
    assert done.returncode == 0, done.stderr.decode()
    assert upstream_result(api, done.stdout.decode().split()[-1]) == "pass"


def test_smtp_straight_from_the_client_believes_no_results_header(
    api: httpx.Client, service: DecisionService, trusting_our_mta: None
) -> None:
    with SmtpThread(lambda: InProcessHandoff(service), SmtpConfig(recipients=(DESK,))) as server:
        code, reply = smtp_send(server.port, TRUSTED_RESULTS)
    assert code == 250, reply
    assert upstream_result(api, reply.decode().rpartition(" ")[2]) == "forged"


def test_smtp_through_our_relay_believes_its_results_header(
    api: httpx.Client, service: DecisionService, trusting_our_mta: None
) -> None:
    with SmtpThread(lambda: InProcessHandoff(service), smtp_config()) as server:
        code, reply = smtp_send_forwarded(server.port, TRUSTED_RESULTS)
    assert code == 250, reply
    assert upstream_result(api, reply.decode().rpartition(" ")[2]) == "pass"


def token_with(service: DecisionService, *scopes: str) -> str:
    with service.sessions.begin() as session:
        return create_token(session, "remote receiver", list(scopes))


def test_a_remote_receiver_hands_its_trusted_hop_over_with_the_relay_scope(
    api: httpx.Client, live_api: LiveServer, service: DecisionService, trusting_our_mta: None
) -> None:
    relay_token = token_with(service, "intake", "relay")
    with SmtpThread(lambda: HttpHandoff(live_api.url, relay_token), smtp_config()) as server:
        code, reply = smtp_send_forwarded(server.port, TRUSTED_RESULTS)
    assert code == 250, reply
    assert upstream_result(api, reply.decode().rpartition(" ")[2]) == "pass"


def test_a_remote_receiver_without_the_relay_scope_defers_relayed_mail(
    live_api: LiveServer, service: DecisionService
) -> None:
    # relay=true with an API_TOKEN lacking the scope: the API refuses (403), the sender's
    # server keeps the message (451) until the operator gives the token the scope.
    intake_token = token_with(service, "intake")
    with SmtpThread(lambda: HttpHandoff(live_api.url, intake_token), smtp_config()) as server:
        code, reply = smtp_send_forwarded(server.port, TRUSTED_RESULTS)
    assert code == 451
    assert b"misconfigured" in reply


def test_a_remote_receiver_hands_mail_from_a_client_over_without_relay(
    api: httpx.Client, live_api: LiveServer, service: DecisionService, trusting_our_mta: None
) -> None:
    intake_token = token_with(service, "intake")
    config = SmtpConfig(recipients=(DESK,))
    with SmtpThread(lambda: HttpHandoff(live_api.url, intake_token), config) as server:
        code, reply = smtp_send(server.port, TRUSTED_RESULTS)
    assert code == 250, reply
    assert upstream_result(api, reply.decode().rpartition(" ")[2]) == "forged"
