"""service-scope and instruction-kind: each result with the reason an agent reads."""

from __future__ import annotations

import pytest

from app.db.models import Customer
from app.decision.checks.instruction_kind import instruction_kind
from app.decision.checks.service_scope import service_scope
from app.decision.named_services import How, Named
from app.decision.rules import load_rules
from app.registry.customers import Owned
from mailhook.catalogue import InstructionKind
from mailhook.findings import Finding
from tests.support import RULES

RULES_SHIPPED = load_rules(RULES)
ACME = Customer(login="acme", panel_email="jan@acme.pl")
BETA = Customer(login="beta", panel_email="ola@beta.pl")
SENDER = "jan@acme.pl"


def kinds(*names: str) -> tuple[InstructionKind, ...]:
    return tuple(RULES_SHIPPED.kind(name) for name in names)


def named(written: str, service: str, holder: Customer, how: How = "exact") -> Named:
    return Named(written, Owned(1, service, holder), how)


OWN = named("acme.pl", "acme.pl", ACME)
OWN_HOST = named("www.acme.pl", "acme.pl", ACME, "parent")
OTHERS = named("beta.pl", "beta.pl", BETA)
OTHERS_HOST = named("poczta.beta.pl", "beta.pl", BETA, "parent")
IMITATION = named("xn--bta-rdd.pl", "beta.pl", BETA, "lookalike")


@pytest.mark.parametrize(
    ("finding", "result", "reason"),
    [
        pytest.param(
            service_scope(kinds("dns_change"), (OWN_HOST,), (), SENDER),
            "pass",
            "The services the message names are the sender's: acme.pl.",
            id="a host of the sender's own domain passes as that domain",
        ),
        pytest.param(
            service_scope(kinds("inquiry"), (), (), SENDER),
            "pass",
            "The message names no registered service, and nothing it asks for changes one.",
            id="an inquiry naming no service passes",
        ),
        pytest.param(
            service_scope(kinds("inquiry"), (OWN,), (OTHERS,), SENDER),
            "mixed",
            "The message asks for question about a service, and its quoted, forwarded or "
            "attached text names beta.pl of customer beta (o***@beta.pl); an agent should "
            "confirm that the request is not about that service.",
            # A line that looks like an attribution ("On … wrote:") is easy to write: what
            # follows is on the reader's screen all the same.
            id="another customer's service in quoted text holds even an inquiry",
        ),
        pytest.param(
            service_scope(kinds("transfer_out"), (), (), SENDER),
            "none",
            "The message asks for transfer of a domain out, AuthInfo code, which changes a "
            "service, but names none of the services registered for the sender; an agent should "
            "ask the customer which service is meant.",
            id="a transfer naming no service is none",
        ),
        pytest.param(
            service_scope(kinds("transfer_out"), (OTHERS_HOST,), (), SENDER),
            "foreign",
            "The message is about beta.pl of customer beta (o***@beta.pl) and names none of the "
            "sender's own services; only the registered address of that customer may instruct "
            "about them.",
            id="only another customer's service is foreign",
        ),
        pytest.param(
            service_scope(kinds("dns_change"), (OWN, OTHERS), (), SENDER),
            "mixed",
            "Beside the sender's own acme.pl, the message names beta.pl of customer beta "
            "(o***@beta.pl); an agent should confirm that the request about it is ordinary (a "
            "DNS target at an agency is) before acting, without alerting that customer.",
            id="another customer's service beside the sender's own is mixed",
        ),
        pytest.param(
            service_scope(kinds("cancellation"), (OWN,), (OTHERS,), SENDER),
            "mixed",
            "The message asks for cancellation of a service, and its quoted, forwarded or "
            "attached text names beta.pl of customer beta (o***@beta.pl); an agent should "
            "confirm that the request is not about that service.",
            id="another customer's service in quoted text under a cancellation is mixed",
        ),
        pytest.param(
            service_scope(kinds("transfer_out"), (IMITATION,), (), SENDER),
            "lookalike",
            "The message names b\u0435ta.pl (xn--bta-rdd.pl), which looks like beta.pl of "
            "customer beta (o***@beta.pl) but is not it; an agent should treat it as naming "
            "beta.pl and confirm with the customer what is meant.",
            id="a look-alike is named with the domain it imitates",
        ),
        pytest.param(
            service_scope(kinds("transfer_out"), (OWN,), (), None),
            "foreign",
            "The message is about acme.pl of customer acme (j***@acme.pl) and names none of the "
            "sender's own services; only the registered address of that customer may instruct "
            "about them.",
            id="without a usable sender no service is the sender's",
        ),
        pytest.param(
            instruction_kind(()),
            "none",
            "The instruction catalogue does not recognise what the message asks for; an agent "
            "must read it and decide.",
            id="no kind recognised is none",
        ),
        pytest.param(
            instruction_kind(kinds("invoice_duplicate", "dns_change")),
            "pass",
            "The message asks for duplicate of an invoice, change of DNS records or name servers "
            "(invoice_duplicate, dns_change).",
            id="the recognised kinds are listed",
        ),
    ],
)
def test_each_result_and_its_reason(finding: Finding, result: str, reason: str) -> None:
    assert (finding.result, finding.reason) == (result, reason)
    # Another customer's address is never shown in clear.
    assert "ola@beta.pl" not in finding.reason
