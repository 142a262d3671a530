"""intakeguard as a milter of a real Postfix (smtpd_milters), on SQLite and PostgreSQL.

Postfix receives from the test client on its own loopback address, asks the milter at
the end of each message, and delivers what it accepts to a sink SMTP server; what
arrives there is what a desk's mailbox or ticketing system would get.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import Verdict
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from app.server.handoff import InProcessHandoff
from app.settings import Settings
from mailhook.milter import MilterConfig, RejectedMail

# The module-wide fixtures of the other Postfix tests: skip (or fail on CI) without
# Postfix, and a root directory its daemons can reach.
from tests.app.server.test_postfix import (  # noqa: F401
    ServeProcess,
    postfix_required,
    postfix_root,
    with_message_id,
)
from tests.dns_server import FixtureDnsServer
from tests.milter_server import MailSink, MilterThread
from tests.postfix import PostfixInstance, free_port
from tests.support import RULES, SECRET_KEY, make_message, signed_by_acme

DESK = "support@desk.example"
SENDER = "jan@acme.pl"
CLIENT_IP = "127.0.0.5"
CLIENT_HELO = "mx.acme.pl"
AUTHSERV_ID = "intakeguard.desk.example"


def milter_main(milter_port: int, sink_port: int) -> dict[str, str]:
    """main.cf lines as the README gives them, pointed at the test's ports."""
    return {
        "smtpd_milters": f"inet:127.0.0.1:{milter_port}",
        "milter_default_action": "tempfail",
        "milter_protocol": "6",
        "transport_maps": f"inline:{{desk.example=smtp:[127.0.0.1]:{sink_port}}}",
    }


@pytest.fixture
def desk(service: DecisionService) -> DecisionService:
    customer = validate(
        "acme",
        CustomerData(panel_email=SENDER, kind="company", name="ACME", services=("acme.pl",)),
    )
    with service.sessions.begin() as session:
        put_customer(session, customer, SECRET_KEY.encode())
    return service


def send(postfix: PostfixInstance, raw: bytes, rcpt: str = DESK) -> tuple[int, str]:
    """One SMTP transaction with Postfix from the client: the last reply it got."""
    with smtplib.SMTP(
        "127.0.0.1",
        postfix.smtp_port,
        local_hostname=CLIENT_HELO,
        source_address=(CLIENT_IP, 0),
        timeout=60,
    ) as client:
        client.ehlo()
        # With the milter unreachable Postfix answers MAIL FROM already.
        for code, reply in (client.mail(SENDER), client.rcpt(rcpt)):
            if code != 250:
                return code, reply.decode()
        code, reply = client.data(raw)
        return code, reply.decode()


class Mailroom:
    """A sink, the milter (in this process, on the test's store) and Postfix between."""

    def __init__(
        self,
        service: DecisionService,
        root: Path,
        rejected: RejectedMail,
        recipients: tuple[str, ...] = (),
    ) -> None:
        self.service = service
        self.sink = MailSink()
        config = MilterConfig(authserv_id=AUTHSERV_ID, rejected=rejected, recipients=recipients)
        self.milter = MilterThread(lambda: InProcessHandoff(service), config)
        self.postfix = PostfixInstance(root, main=milter_main(self.milter.port, self.sink.port))

    def __enter__(self) -> Mailroom:
        self.sink.__enter__()
        self.milter.start()
        self.postfix.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        self.postfix.stop()
        self.milter.stop()
        self.sink.__exit__()

    def send(self, raw: bytes, rcpt: str = DESK) -> tuple[int, str]:
        return send(self.postfix, raw, rcpt)

    def delivered(self, count: int = 1) -> list[Message]:
        return self.postfix.wait(
            lambda: (lambda got: got if len(got) >= count else None)(self.sink.received()),
            30,
            f"{count} message(s) at the sink",
        )

    def verdicts(self) -> list[Verdict]:
        with self.service.sessions() as session:
            return list(session.scalars(select(Verdict).order_by(Verdict.seq)))


@pytest.fixture
def mailroom(desk: DecisionService, postfix_root: Path) -> Iterator[Mailroom]:  # noqa: F811
    with Mailroom(desk, postfix_root, RejectedMail.TAG) as room:
        yield room


def test_a_genuine_customer_arrives_stamped_accepted(mailroom: Mailroom) -> None:
    raw = signed_by_acme(make_message(subject="Duplikat faktury 12/2026 dla acme.pl", to=DESK))
    code, reply = mailroom.send(raw)
    assert code == 250, reply
    (message,) = mailroom.delivered()
    (verdict,) = mailroom.verdicts()
    assert verdict.channel == "milter"
    assert message["X-Intakeguard-Verdict"] == (
        f"accepted; assurance=authenticated; customer=acme; id={verdict.id}"
    )
    assert message["X-Intakeguard-Signature"] == verdict.signature
    # SPF fails (the client is not acme.pl's server); the aligned DKIM signature passes.
    assert message.get_all("Authentication-Results") == [
        f"{AUTHSERV_ID}; spf=fail; dkim=pass; dmarc=pass; arc=none"
    ]
    assert verdict.envelope == {
        "client_ip": CLIENT_IP,
        "helo": CLIENT_HELO,
        "mail_from": SENDER,
        "rcpt": [DESK],
        "trusted_hop": False,
    }
    # The milter saw the client's bytes: the message recorded is the one signed.
    assert verdict.message_sha256 == hashlib.sha256(raw).hexdigest()


def spoof() -> bytes:
    """jan@acme.pl's address from a server acme.pl does not list, unsigned: DMARC p=reject."""
    return make_message(subject="Transfer domeny acme.pl, prosze o kod AuthInfo")


def test_a_spoof_arrives_stamped_rejected(mailroom: Mailroom) -> None:
    code, reply = mailroom.send(spoof())
    assert code == 250, reply
    (message,) = mailroom.delivered()
    (verdict,) = mailroom.verdicts()
    assert verdict.decision == "rejected"
    assert message["X-Intakeguard-Verdict"].startswith("rejected; assurance=")
    assert message["X-Intakeguard-Verdict"].endswith(f"; id={verdict.id}")
    assert message.get_all("Authentication-Results") == [
        f"{AUTHSERV_ID}; spf=fail; dkim=none; dmarc=fail (policy reject); arc=none"
    ]


def test_with_milter_rejected_reject_a_spoof_is_refused_and_still_recorded(
    desk: DecisionService,
    postfix_root: Path,  # noqa: F811
) -> None:
    raw = spoof()
    with Mailroom(desk, postfix_root, RejectedMail.REJECT) as room:
        code, reply = room.send(raw)
        # The same message again (the sender's server trying once more): the same verdict.
        again = room.send(raw)
        verdicts = room.verdicts()
        log = room.postfix.log()
    (verdict,) = verdicts
    assert verdict.decision == "rejected"
    assert code == 550, reply
    assert reply.startswith("5.7.1 ") and verdict.id in reply, reply
    assert again == (code, reply)
    assert "status=sent" not in log


FORGED = (
    b"Authentication-Results: INTAKEGUARD.desk.example; dkim=pass; dmarc=pass\r\n"
    b"X-Intakeguard-Verdict: accepted; assurance=authorized; customer=acme; id=forged\r\n"
    b"Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=acme.pl\r\n"
    b'Authentication-Results: (quoted) "intakeguard.desk.example"; dmarc=pass\r\n'
    b"x-intakeguard-signature: ed25519:forged\r\n"
    b"X-Intakeguard-Note: anything of ours\r\n"
)


def test_a_stamp_forged_by_the_sender_is_removed(mailroom: Mailroom) -> None:
    code, reply = mailroom.send(FORGED + spoof())
    assert code == 250, reply
    (message,) = mailroom.delivered()
    (verdict,) = mailroom.verdicts()
    assert verdict.decision == "rejected"
    # Ours on top; the other server's results stay (RFC 8601 §5 removes only our id's).
    assert message.get_all("Authentication-Results") == [
        f"{AUTHSERV_ID}; spf=fail; dkim=none; dmarc=fail (policy reject); arc=none",
        "mx.other.example; spf=pass smtp.mailfrom=acme.pl",
    ]
    stamp = [name for name in message if name.lower().startswith("x-intakeguard-")]
    assert stamp == ["X-Intakeguard-Verdict", "X-Intakeguard-Signature"]
    assert message["X-Intakeguard-Verdict"].startswith("rejected; ")
    assert message["X-Intakeguard-Signature"] == verdict.signature


def test_with_milter_recipients_only_the_desks_mail_is_checked_and_stamped(
    desk: DecisionService,
    postfix_root: Path,  # noqa: F811
) -> None:
    with Mailroom(desk, postfix_root, RejectedMail.TAG, recipients=(DESK,)) as room:
        # Another mailbox of the same server: on unchecked, and the forged stamp is gone.
        assert room.send(FORGED + spoof(), rcpt="sales@desk.example")[0] == 250
        (other,) = room.delivered()
        assert room.verdicts() == []
        assert room.send(spoof())[0] == 250
        desks = room.delivered(2)[1]
        (verdict,) = room.verdicts()
    assert not [name for name in other if name.lower().startswith("x-intakeguard-")]
    assert other.get_all("Authentication-Results") == [
        "mx.other.example; spf=pass smtp.mailfrom=acme.pl"
    ]
    assert desks["X-Intakeguard-Verdict"].endswith(f"; id={verdict.id}")


def test_milter_stopped_postfix_defers_and_the_retry_is_stamped_once(
    mailroom: Mailroom,
) -> None:
    raw = signed_by_acme(make_message(subject="Pytanie o domene acme.pl", to=DESK))
    mailroom.milter.stop()
    code, reply = mailroom.send(raw)
    # milter_default_action = tempfail: the client keeps the message and retries.
    assert code == 451, reply
    assert mailroom.verdicts() == []
    mailroom.milter.start()
    code, reply = mailroom.send(raw)
    assert code == 250, reply
    (message,) = mailroom.delivered()
    (verdict,) = mailroom.verdicts()
    assert message["X-Intakeguard-Verdict"].endswith(f"; id={verdict.id}")
    assert len(mailroom.sink.messages) == 1


class RetryingFeeder(threading.Thread):
    """Sends ``count`` messages through Postfix, each until a 250, as a sending MTA would:
    a 4xx is tried again shortly, anything else is an error."""

    def __init__(self, postfix: PostfixInstance, count: int, pause: float) -> None:
        super().__init__(daemon=True)
        self.postfix = postfix
        self.count = count
        self.pause = pause
        self.sent: list[str] = []
        """Message-IDs acknowledged with a 250, in order."""
        self.deferrals = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for number in range(self.count):
                message_id = f"<milter-{number}.{uuid.uuid4().hex}@acme.pl>"
                raw = signed_by_acme(
                    with_message_id(
                        make_message(subject=f"Pytanie {number} o domene acme.pl"), message_id
                    )
                )
                while True:
                    try:
                        code, reply = send(self.postfix, raw)
                    except (smtplib.SMTPException, OSError):
                        code, reply = 421, "connection lost"
                    if code == 250:
                        break
                    assert 400 <= code < 500, f"{code} {reply}"
                    self.deferrals += 1
                    time.sleep(0.3)
                self.sent.append(message_id)
                time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self.error = exc


STREAM = 40


def test_kill_9_of_the_milter_under_a_stream_delivers_each_message_once_stamped(
    desk: DecisionService,
    settings: Settings,
    postfix_root: Path,  # noqa: F811
    tmp_path: Path,
    dns_server: FixtureDnsServer,
) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKEGUARD_")}
    env |= {
        "INTAKEGUARD_DATABASE_URL": settings.database_url,
        "INTAKEGUARD_SECRET_KEY": SECRET_KEY,
        "INTAKEGUARD_RULES_DIR": str(RULES),
        "INTAKEGUARD_DNS_NAMESERVERS": dns_server.address,
        "INTAKEGUARD_DNS_TIMEOUT": "1",
        "INTAKEGUARD_MILTER_LISTEN": f"127.0.0.1:{port}",
        "INTAKEGUARD_AUTHSERV_ID": AUTHSERV_ID,
        "INTAKEGUARD_LOG_LEVEL": "WARNING",
    }
    intakeguard = ServeProcess(env, tmp_path / "milter.log", port, command="milter")
    try:
        intakeguard.start()
        with (
            MailSink() as sink,
            PostfixInstance(postfix_root, main=milter_main(port, sink.port)) as postfix,
        ):
            feeder = RetryingFeeder(postfix, STREAM, pause=0.05)
            feeder.start()

            def acknowledged() -> int:
                if feeder.error is not None:
                    raise feeder.error
                return len(feeder.sent)

            postfix.wait(lambda: acknowledged() >= STREAM // 4, 60, "the first messages")
            intakeguard.kill()
            killed_after = acknowledged()
            intakeguard.start()
            feeder.join(timeout=120)
            assert not feeder.is_alive(), "the feeder did not finish"
            if feeder.error is not None:
                raise feeder.error
            postfix.wait_until_empty(60)
            postfix.wait(lambda: len(sink.messages) >= STREAM, 30, "every message at the sink")
            delivered = sink.received()
    finally:
        intakeguard.stop()

    crash = f"killed after {killed_after} messages; {feeder.deferrals} deferrals"
    assert feeder.deferrals > 0, f"the kill was not felt: {crash}"
    with desk.sessions() as session:
        rows = list(session.scalars(select(Verdict)))
    # The store: each message recorded exactly once.
    counts = Counter(row.message_id for row in rows)
    assert all(n == 1 for n in counts.values()), f"recorded twice ({crash}): {counts}"
    assert set(counts) == set(feeder.sent)
    # The desk: each message arrived once, stamped with its own verdict and signature.
    by_id = {row.id: row for row in rows}
    arrived = Counter(message["Message-ID"] for message in delivered)
    assert all(n == 1 for n in arrived.values()), f"delivered twice ({crash}): {arrived}"
    assert set(arrived) == set(feeder.sent)
    for message in delivered:
        (stamp,) = message.get_all("X-Intakeguard-Verdict")
        verdict = by_id[stamp.rpartition("; id=")[2]]
        assert verdict.message_id == message["Message-ID"]
        assert stamp.startswith(f"{verdict.decision}; ")
        assert message["X-Intakeguard-Signature"] == verdict.signature


def test_with_milter_rejected_quarantine_a_spoof_is_held_stamped(
    desk: DecisionService,
    postfix_root: Path,  # noqa: F811
) -> None:
    with Mailroom(desk, postfix_root, RejectedMail.QUARANTINE) as room:
        code, reply = room.send(spoof())
        held = room.postfix.wait(
            lambda: [e for e in room.postfix.queue() if e["queue_name"] == "hold"] or None,
            30,
            "the message in the hold queue",
        )
        (verdict,) = room.verdicts()
        log = room.postfix.log()
    assert code == 250, reply
    assert verdict.decision == "rejected"
    assert len(held) == 1
    assert "status=sent" not in log


def test_dns_trouble_is_a_451_through_postfix_and_the_retry_is_stamped(
    mailroom: Mailroom, dns_faults: dict[str, str]
) -> None:
    raw = signed_by_acme(make_message(subject="Pytanie o domene acme.pl", to=DESK))
    dns_faults["rsa2048._domainkey.acme.pl"] = "servfail"
    code, reply = mailroom.send(raw)
    # Never through unstamped, never a verdict from half the evidence: the client retries.
    assert code == 451, reply
    assert reply.startswith("4.3.0 "), reply
    assert mailroom.verdicts() == []
    assert mailroom.sink.messages == []
    dns_faults.clear()
    code, reply = mailroom.send(raw)
    assert code == 250, reply
    (message,) = mailroom.delivered()
    (verdict,) = mailroom.verdicts()
    assert message["X-Intakeguard-Verdict"] == (
        f"accepted; assurance=authenticated; customer=acme; id={verdict.id}"
    )
