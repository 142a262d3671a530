"""Fail closed (issue 13): what a person can read decides, through both doors, on both stores.

Each row is a message as an attacker or a real customer would send it, the envelope it
comes with, and the decisions it may get. Attacks are never ``accepted`` and never reach
``authorized``; where the issue says which hold applies the row names exactly one
decision (``rejected``: another customer's service is the only one named and the sender
is not its owner; ``review``: unrecognised, mixed, hidden, unreadable, disagreeing parts,
automatic replies, repeated headers). Legitimate customers' mail stays accepted (or
asks for the one-time code a transfer needs). Every row's id names the class of issue
13 it guards, 1 to 8 (class 9, rules that fail open, is tested with the rules), or of a
later round (10 to 31).

The sender throughout is customer acme (jan@acme.pl), with an account and valid one-time
codes of its own; beta and agencja are the other customers it may name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.api import build_service, create_app
from app.auth import create_token
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.server.handoff import InProcessHandoff
from mailhook.smtp_config import SmtpConfig
from tests.adversarial_mail import (
    CUSTOMERS,
    DESK,
    TRUSTED_AUTHSERV_ID,
    Door,
    Stack,
    build,
    check_result,
    loopback,
)
from tests.app.decision.fail_closed.asked_otherwise import (
    ASKED_OTHERWISE,
    ASKED_OTHERWISE_LEGITIMATE,
    SUBJECT_TOPICS,
)
from tests.app.decision.fail_closed.carried import (
    CARRIED,
    CARRIED_LEGITIMATE,
    DRAWN_AS_READ,
    DRAWN_AS_READ_LEGITIMATE,
    LEFTOVERS,
    LEFTOVERS_LEGITIMATE,
    METAMORPHIC,
    NAMED_AS_READ,
    NAMED_AS_READ_LEGITIMATE,
)
from tests.app.decision.fail_closed.disguised import (
    DISGUISED_LEGITIMATE,
    GENERATED,
    IN_LINKS,
    IN_WORDS,
    READ_ALOUD,
    TWO_SCRIPTS,
)
from tests.app.decision.fail_closed.drawn_elsewhere import (
    DRAWN_ELSEWHERE,
    DRAWN_ELSEWHERE_LEGITIMATE,
    METAMORPHIC_ELSEWHERE,
)
from tests.app.decision.fail_closed.drawn_markup import (
    DRAWN_MARKUP,
    DRAWN_MARKUP_LEGITIMATE,
    METAMORPHIC_MARKUP,
)
from tests.app.decision.fail_closed.going_on import (
    GOING_ON,
    GOING_ON_LEGITIMATE,
    JOINED,
    METAMORPHIC_GOING_ON,
)
from tests.app.decision.fail_closed.going_on import LANGUAGES as ASCII_LANGUAGES
from tests.app.decision.fail_closed.headers import ADDRESSES, AUTOMATIC, HEADERS, RESULTS
from tests.app.decision.fail_closed.legitimate import LEGITIMATE
from tests.app.decision.fail_closed.named_fields import NAMED_FIELDS, NAMED_FIELDS_LEGITIMATE
from tests.app.decision.fail_closed.parts import PARTS, PHRASES
from tests.app.decision.fail_closed.replied import REPLIED
from tests.app.decision.fail_closed.riding import DRAWN, LANGUAGES, RIDING, SAME_CLAUSE, UNLISTED
from tests.app.decision.fail_closed.rows import Row
from tests.app.decision.fail_closed.services import SERVICES
from tests.app.decision.fail_closed.unexplained import UNEXPLAINED
from tests.app.decision.fail_closed.unrecognised import UNRECOGNISED
from tests.dns_server import FixtureDnsServer
from tests.smtp_server import SmtpThread
from tests.support import ADMIN_TOKEN, TLS, LiveServer, make_settings, scratch_database

BACKENDS = ["sqlite", "postgresql"]

ROWS = [
    *UNRECOGNISED,
    *SERVICES,
    *PARTS,
    *PHRASES,
    *HEADERS,
    *AUTOMATIC,
    *RESULTS,
    *ADDRESSES,
    *RIDING,
    *UNLISTED,
    *SAME_CLAUSE,
    *LANGUAGES,
    *DRAWN,
    *UNEXPLAINED,
    *REPLIED,
    *CARRIED,
    *METAMORPHIC,
    *LEFTOVERS,
    *NAMED_AS_READ,
    *DRAWN_AS_READ,
    *DRAWN_MARKUP,
    *METAMORPHIC_MARKUP,
    *NAMED_FIELDS,
    *ASKED_OTHERWISE,
    *SUBJECT_TOPICS,
    *DRAWN_ELSEWHERE,
    *METAMORPHIC_ELSEWHERE,
    *GOING_ON,
    *JOINED,
    *ASCII_LANGUAGES,
    *METAMORPHIC_GOING_ON,
    *IN_LINKS,
    *TWO_SCRIPTS,
    *READ_ALOUD,
    *GENERATED,
    *IN_WORDS,
    *LEGITIMATE,
    *CARRIED_LEGITIMATE,
    *LEFTOVERS_LEGITIMATE,
    *NAMED_AS_READ_LEGITIMATE,
    *DRAWN_AS_READ_LEGITIMATE,
    *DRAWN_MARKUP_LEGITIMATE,
    *NAMED_FIELDS_LEGITIMATE,
    *ASKED_OTHERWISE_LEGITIMATE,
    *DRAWN_ELSEWHERE_LEGITIMATE,
    *GOING_ON_LEGITIMATE,
    *DISGUISED_LEGITIMATE,
]


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    dns_server: FixtureDnsServer,
) -> Iterator[Stack]:
    """One registry (acme, beta, agencja) and the doors, set up once per backend."""
    store = tmp_path_factory.mktemp("fail-closed") / "store.db"
    with scratch_database(request, store, "intakeguard_fail_closed") as url:
        yield from _stack_on(url, dns_server)


def _stack_on(url: str, dns_server: FixtureDnsServer) -> Iterator[Stack]:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = make_settings(
        url,
        dns_nameservers=[dns_server.address],
        dns_timeout=1.0,
        trusted_authserv_ids=[TRUSTED_AUTHSERV_ID],
    )
    service = build_service(settings)
    with service.sessions.begin() as session:
        intake_token = create_token(session, "outside caller", ["intake"])
    relay = SmtpConfig(recipients=(DESK,), trusted_relays=loopback())
    direct = SmtpConfig(recipients=(DESK,), max_connections_per_minute=100_000)
    with (
        LiveServer(create_app(settings, service)) as live,
        httpx.Client(
            verify=TLS,
            base_url=live.url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        ) as api,
        SmtpThread(lambda: InProcessHandoff(service), relay) as smtp_relay,
        SmtpThread(lambda: InProcessHandoff(service), direct) as smtp_direct,
    ):
        for login, customer in CUSTOMERS.items():
            response = api.put(f"/v1/customers/{login}", json=customer)
            assert response.status_code == 201, response.text
        yield Stack(api, intake_token, smtp_relay, smtp_direct)
    service.sessions.kw["bind"].dispose()


def deliver(stack: Stack, row: Row, door: Door) -> dict[str, Any] | None:
    """The verdict ``row`` gets through ``door``; None when the REST door refuses the call."""
    code = stack.code() if row.code else None
    raw = build(row.mail, code.replace("-", row.code_dash) if code else None)
    if door == "smtp":
        return stack.smtp(raw, row.route, row.hop)
    token = stack.intake_token if row.rest_token == "intake" else None
    return stack.rest(raw, row.route, token=token, relay=row.rest_relay)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", ROWS)
def test_what_a_person_can_read_decides(stack: Stack, row: Row, door: Door) -> None:
    verdict = deliver(stack, row, door)
    if verdict is None:
        assert row.attack, f"{row.guards}: the {door} door refused legitimate mail"
        return
    seen = (
        f"{row.guards} via {door}: {verdict['decision']} / {verdict['assurance']} "
        f"{verdict['instruction']} {verdict['reasons']}"
    )
    assert verdict["decision"] in row.decisions, seen
    if row.attack:
        assert verdict["decision"] != "accepted", seen
        assert verdict["assurance"] != "authorized", seen
    if row.kinds is not None:
        assert verdict["instruction"]["kinds"] == list(row.kinds), seen
    for name, result in row.checks:
        assert check_result(verdict, name) == result, f"{seen}; {name} should be {result}"
