"""intakeguard as a milter of a real Postfix (smtpd_milters), on SQLite and PostgreSQL.

Postfix receives from the test client on its own loopback address, asks the milter at
the end of each message, and delivers what it accepts to a sink SMTP server; what
arrives there is what a desk's mailbox or ticketing system would get.
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import Verdict
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from app.server.handoff import InProcessHandoff
from mailhook.milter import MilterConfig, RejectedMail

# The module-wide fixtures of the other Postfix tests: skip (or fail on CI) without
# Postfix, and a root directory its daemons can reach.
from tests.app.server.test_postfix import postfix_required, postfix_root  # noqa: F401
from tests.milter_server import MailSink, MilterThread
from tests.postfix import PostfixInstance
from tests.support import SECRET_KEY, make_message, signed_by_acme

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


class Mailroom:
    """A sink, the milter (in this process, on the test's store) and Postfix between."""

    def __init__(self, service: DecisionService, root: Path, rejected: RejectedMail) -> None:
        self.service = service
        self.sink = MailSink()
        config = MilterConfig(authserv_id=AUTHSERV_ID, rejected=rejected)
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

    def send(self, raw: bytes) -> tuple[int, str]:
        """One SMTP transaction with Postfix: the reply to the end of data."""
        with smtplib.SMTP(
            "127.0.0.1",
            self.postfix.smtp_port,
            local_hostname=CLIENT_HELO,
            source_address=(CLIENT_IP, 0),
            timeout=60,
        ) as client:
            client.ehlo()
            # With the milter unreachable Postfix answers MAIL FROM already.
            for code, reply in (client.mail(SENDER), client.rcpt(DESK)):
                if code != 250:
                    return code, reply.decode()
            code, reply = client.data(raw)
            return code, reply.decode()

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
    raw = signed_by_acme(make_message(subject="Duplikat faktury 12/2026 dla acme.pl"))
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


def test_milter_stopped_postfix_defers_and_the_retry_is_stamped_once(
    mailroom: Mailroom,
) -> None:
    raw = signed_by_acme(make_message(subject="Pytanie o domene acme.pl"))
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
