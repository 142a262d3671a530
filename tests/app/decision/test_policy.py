"""Every path of the policy: assurance levels, requirements, findings, codes, and rules edits."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import Customer, FailedCodeAttempt
from app.decision.checks.instruction_kind import instruction_kind
from app.decision.policy import NewHolder, Outcome, assurance_of, decide
from app.decision.rules import Rules, load_rules
from app.decision.service import DecisionService
from app.registry.codes import MAX_FAILED_ATTEMPTS, issue_code
from app.registry.customers import CustomerData, put_customer, validate
from mailhook.catalogue import ASSURANCE_LEVELS, InstructionKind
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.support import RULES, SECRET_KEY, make_message

SHIPPED = load_rules(RULES)
# One kind per level, so every requirement can be asked for (the shipped catalogue has
# only authenticated and authorized ones).
GRID = dataclasses.replace(
    SHIPPED,
    catalogue=dataclasses.replace(
        SHIPPED.catalogue,
        kinds=SHIPPED.catalogue.kinds
        + tuple(
            InstructionKind(f"needs_{level}", f"Request needing {level}", ("x",), level)
            for level in ASSURANCE_LEVELS
        ),
    ),
)
CHANGED = date(2026, 11, 20)


def finding(name: str, result: str, reason: str = "") -> Finding:
    return Finding(name, result, reason or f"The {name} check says {result}; act on it.")


PASS = finding("customer-match", "pass")
DMARC = finding("dmarc", "pass")
CODE = finding("one-time-code", "pass")
BLOCKING = finding("display-name", "fail", "The display name shows another address; reject.")
REVIEWING = finding("sender-headers", "fail", "Reply-To is a free mailbox; an agent looks.")
KIND_NONE = instruction_kind(())
NOT_RECOGNISED = (
    "The instruction catalogue does not recognise what the message asks for; an agent must "
    "read it and decide."
)
SCOPE_NONE = finding("service-scope", "none", "The request names none of acme's services; ask.")
SCOPE_MIXED = finding("service-scope", "mixed", "The message names beta.pl of beta too; check.")
SCOPE_LOOKALIKE = finding("service-scope", "lookalike", "The bеta.pl looks like beta.pl; check.")
SCOPE_FOREIGN = finding("service-scope", "foreign", "The message names only beta.pl; stop.")
# A policy an operator loosened: the fail-closed results still hold the message.
IGNORING = dataclasses.replace(
    SHIPPED,
    policy=dataclasses.replace(
        SHIPPED.policy,
        findings={
            **SHIPPED.policy.findings,
            **{
                f"{name}.{result}": "ignore"
                for name, results in (
                    ("instruction-kind", ("none",)),
                    ("service-scope", ("none", "mixed", "lookalike", "foreign")),
                )
                for result in results
            },
        },
    ),
)


def one_sentence(text: str) -> bool:
    """A capital first, a full stop last, and no sentence boundary in between."""
    return text[:1].isupper() and text.endswith(".") and not re.search(r"[.!?]\s+[A-Z]", text)


def assert_sentences(decision: Outcome) -> None:
    assert decision.reasons, decision
    for reason in decision.reasons:
        assert one_sentence(reason), reason


@pytest.mark.parametrize(
    ("findings", "level"),
    [
        ([], "none"),
        ([DMARC], "none"),
        ([finding("customer-match", "fail"), DMARC], "none"),
        ([finding("customer-match", "ambiguous"), DMARC, CODE], "none"),
        ([PASS], "asserted"),
        ([PASS, finding("dmarc", "fail")], "asserted"),
        ([PASS, DMARC, BLOCKING], "asserted"),
        ([PASS, DMARC, CODE, BLOCKING], "asserted"),
        ([PASS, DMARC], "authenticated"),
        ([PASS, DMARC, REVIEWING], "authenticated"),
        ([PASS, DMARC, finding("one-time-code", "fail")], "authenticated"),
        ([PASS, DMARC, CODE], "authorized"),
    ],
    ids=[
        "no findings",
        "dmarc without customer",
        "another customer's address",
        "ambiguous customer",
        "panel address only",
        "dmarc fails",
        "blocking finding",
        "code but blocking finding",
        "authenticated",
        "a review finding does not lower it",
        "wrong code",
        "valid code",
    ],
)
def test_assurance_of(findings: list[Finding], level: str) -> None:
    assert assurance_of(findings, SHIPPED.policy) == level


def expected(assurance: str, required: str) -> str:
    if ASSURANCE_LEVELS.index(assurance) >= ASSURANCE_LEVELS.index(required):
        return "accepted"
    if required == "authorized" and assurance == "authenticated":
        return "otp_required"
    return "review"


GRID_ROWS = [(a, r, expected(a, r)) for a in ASSURANCE_LEVELS for r in ASSURANCE_LEVELS]


@pytest.mark.parametrize(
    ("assurance", "required", "outcome"), GRID_ROWS, ids=[f"{a}-for-{r}" for a, r, _ in GRID_ROWS]
)
def test_each_assurance_level_against_each_requirement(
    assurance: str, required: str, outcome: str
) -> None:
    decision = decide([], (GRID.kind(f"needs_{required}"),), assurance, GRID.policy)
    assert decision.decision == outcome
    assert len(decision.reasons) == 1
    assert_sentences(decision)
    reason = decision.reasons[0]
    assert reason.startswith(f"The message asks for request needing {required}")
    if outcome == "accepted":
        assert reason.endswith(f"carries the {required} level it needs; the desk may act on it.")
    elif outcome == "otp_required":
        assert "needs a one-time code; ask the customer to copy one" in reason
    else:
        assert f"only reaches {assurance} because " in reason
        assert reason.endswith(
            "confirm with the customer through the Customer Panel before acting."
        )


# (findings, kinds, assurance, rules, panel change, decision, text every reason shows)
PATHS = [
    pytest.param(
        [PASS, DMARC, CODE],
        ("holder_change",),
        "authorized",
        SHIPPED,
        None,
        "postal_required",
        [
            "Change of the domain holder (assignment) is accepted only on signed documents sent "
            "by post; tell the customer which documents to send."
        ],
        id="postal only, even when authorized",
    ),
    pytest.param(
        [PASS, DMARC],
        ("transfer_out", "holder_change"),
        "authenticated",
        SHIPPED,
        None,
        "postal_required",
        ["accepted only on signed documents sent by post"],
        id="postal wins over a code",
    ),
    pytest.param(
        [PASS, DMARC],
        ("transfer_out",),
        "authenticated",
        SHIPPED,
        None,
        "otp_required",
        ["asks for transfer of a domain out, AuthInfo code, which needs a one-time code"],
        id="otp required",
    ),
    pytest.param(
        [PASS, DMARC, CODE],
        ("transfer_out", "dns_change"),
        "authorized",
        SHIPPED,
        None,
        "accepted",
        ["The message asks for transfer of a domain out, AuthInfo code, change of DNS records"],
        id="the highest requirement of several kinds",
    ),
    pytest.param(
        [PASS, DMARC],
        ("contact_change",),
        "authenticated",
        SHIPPED,
        CHANGED,
        "otp_required",
        [
            "which needs a one-time code",
            "The panel address was changed recently (2026-11-20), so the request needs the "
            "authorized level instead of authenticated",
        ],
        id="a recent panel change raises the requirement",
    ),
    pytest.param(
        [PASS],
        ("inquiry",),
        "asserted",
        SHIPPED,
        CHANGED,
        "review",
        [
            "needs the authorized level, but it only reaches asserted because the sender's domain",
            "instead of authenticated",
        ],
        id="raised, and short of it",
    ),
    pytest.param(
        [PASS, DMARC, CODE],
        ("contact_change",),
        "authorized",
        SHIPPED,
        CHANGED,
        "accepted",
        ["carries the authorized level it needs", "changed recently"],
        id="raised, and a code meets it",
    ),
    pytest.param(
        [PASS, DMARC, CODE],
        ("transfer_out",),
        "authorized",
        SHIPPED,
        CHANGED,
        "accepted",
        ["carries the authorized level it needs; the desk may act on it."],
        id="nothing above authorized to raise to",
    ),
    pytest.param(
        [PASS, DMARC, KIND_NONE],
        (),
        "authenticated",
        SHIPPED,
        None,
        "review",
        [NOT_RECOGNISED],
        id="an authenticated request the catalogue does not recognise is held for an agent",
    ),
    pytest.param(
        [PASS, DMARC, CODE, KIND_NONE],
        (),
        "authorized",
        SHIPPED,
        None,
        "review",
        [NOT_RECOGNISED],
        id="an unrecognised request is held even with a valid one-time code",
    ),
    pytest.param(
        [PASS, KIND_NONE],
        (),
        "asserted",
        SHIPPED,
        None,
        "review",
        [NOT_RECOGNISED],
        id="an unrecognised request short of authentication is held for the same reason",
    ),
    pytest.param(
        [PASS, DMARC],
        (),
        "authenticated",
        IGNORING,
        None,
        "review",
        [NOT_RECOGNISED],
        id="no recognised kind is held even where the policy would ignore it",
    ),
    pytest.param(
        [PASS, DMARC, SCOPE_NONE],
        ("dns_change",),
        "authenticated",
        SHIPPED,
        None,
        "review",
        [SCOPE_NONE.reason],
        id="a kind acting on a service that names none of the sender's is held",
    ),
    pytest.param(
        [PASS, DMARC],
        ("inquiry",),
        "authenticated",
        SHIPPED,
        None,
        "accepted",
        ["The message asks for question about a service and carries the authenticated level"],
        id="a recognised inquiry naming no service is accepted when authenticated",
    ),
    pytest.param(
        [PASS, DMARC, SCOPE_MIXED],
        ("dns_change",),
        "authenticated",
        SHIPPED,
        None,
        "review",
        [SCOPE_MIXED.reason],
        id="another customer's service beside the sender's own is held",
    ),
    pytest.param(
        [PASS, DMARC, CODE, SCOPE_LOOKALIKE],
        ("transfer_out",),
        "authorized",
        SHIPPED,
        None,
        "review",
        [SCOPE_LOOKALIKE.reason],
        id="a look-alike of a registered domain is held even when authorized",
    ),
    pytest.param(
        [finding("customer-match", "fail", "The sender is not the owner; stop."), SCOPE_FOREIGN],
        ("transfer_out",),
        "none",
        SHIPPED,
        None,
        "rejected",
        ["The sender is not the owner; stop."],
        id="only another customer's service is rejected by customer-match",
    ),
    pytest.param(
        [PASS, DMARC, SCOPE_MIXED, SCOPE_LOOKALIKE, SCOPE_NONE],
        ("dns_change",),
        "authenticated",
        IGNORING,
        None,
        "review",
        [SCOPE_MIXED.reason, SCOPE_LOOKALIKE.reason, SCOPE_NONE.reason],
        id="a service outside the sender's scope is held even where the policy would ignore it",
    ),
    pytest.param(
        [],
        ("dns_change",),
        "none",
        SHIPPED,
        None,
        "review",
        ["only reaches none because the sender is not the address registered"],
        id="shortfall review",
    ),
    pytest.param(
        [],
        ("dns_change",),
        "none",
        dataclasses.replace(
            SHIPPED, policy=dataclasses.replace(SHIPPED.policy, shortfall="reject")
        ),
        None,
        "rejected",
        ["only reaches none because"],
        id="shortfall reject",
    ),
    pytest.param(
        [PASS, DMARC, CODE, BLOCKING, REVIEWING],
        ("inquiry",),
        "authorized",
        SHIPPED,
        None,
        "rejected",
        ["The display name shows another address; reject."],
        id="a blocking finding rejects, before any review",
    ),
    pytest.param(
        [
            PASS,
            DMARC,
            finding("customer-match", "fail", "The sender is not the owner; stop."),
            BLOCKING,
        ],
        ("inquiry",),
        "none",
        SHIPPED,
        None,
        "rejected",
        ["The sender is not the owner; stop.", "The display name shows another address; reject."],
        id="every blocking finding is a reason",
    ),
    pytest.param(
        [PASS, DMARC, REVIEWING],
        ("inquiry",),
        "authenticated",
        SHIPPED,
        None,
        "review",
        ["Reply-To is a free mailbox; an agent looks."],
        id="a review finding",
    ),
    pytest.param(
        [PASS, DMARC, finding("new-check", "error", "The check could not finish; look again.")],
        ("inquiry",),
        "authenticated",
        SHIPPED,
        None,
        "review",
        ["The check could not finish; look again."],
        id="an error is never ignored",
    ),
    pytest.param(
        [PASS, DMARC, finding("spf", "fail"), finding("replay", "retransmission")],
        ("inquiry",),
        "authenticated",
        SHIPPED,
        None,
        "accepted",
        ["carries the authenticated level it needs"],
        id="ignored findings change nothing",
    ),
]


@pytest.mark.parametrize(
    ("findings", "kinds", "assurance", "rules", "changed", "outcome", "shown"), PATHS
)
def test_each_decision_path(
    findings: list[Finding],
    kinds: tuple[str, ...],
    assurance: str,
    rules: Rules,
    changed: date | None,
    outcome: str,
    shown: list[str],
) -> None:
    wanted = tuple(rules.kind(name) for name in kinds)
    decision = decide(findings, wanted, assurance, rules.policy, panel_email_changed=changed)
    assert decision.decision == outcome
    assert len(decision.reasons) == len(shown), decision.reasons
    for reason, text in zip(decision.reasons, shown, strict=True):
        assert text in reason
    assert_sentences(decision)


# (findings, kinds, assurance, rules, confirmable, denied day, decision, text shown)
DMARC_FAIL = finding(
    "dmarc", "fail", "DMARC fails for acme.pl; its policy p=none only asks for reports."
)
DMARC_REJECT = finding("dmarc", "reject", "DMARC fails for acme.pl; its policy is p=reject.")
UNREADABLE = finding(
    "instruction-parts", "unreadable", "A PDF could not be read; an agent reads it."
)
EVERYTHING = dataclasses.replace(
    SHIPPED,
    policy=dataclasses.replace(
        SHIPPED.policy,
        confirmation=dataclasses.replace(
            SHIPPED.policy.confirmation,
            levels=("authenticated", "authorized"),
            from_levels=("none", "asserted"),
        ),
    ),
)
ASKED = "the owner is asked to confirm it through a link sent to the address registered"
CONFIRMATION_PATHS = [
    pytest.param(
        [PASS], ("invoice_duplicate",), "asserted", SHIPPED, True, None,
        "confirmation_required", [ASKED],
        id="the panel address without authentication is asked to confirm",
    ),
    pytest.param(
        [PASS, DMARC_FAIL], ("dns_change",), "asserted", SHIPPED, True, None,
        "confirmation_required", [ASKED, "p=none only asks for reports"],
        id="a DMARC failure in monitoring mode is settled by the owner too",
    ),
    pytest.param(
        [PASS], ("invoice_duplicate",), "asserted", SHIPPED, False, None,
        "review", ["confirm with the customer through the Customer Panel"],
        id="without confirmation mail (no PUBLIC_URL or relay) it is held for review",
    ),
    pytest.param(
        [PASS, DMARC_REJECT], ("invoice_duplicate",), "asserted", SHIPPED, True, None,
        "rejected", ["p=reject"],
        id="a rejecting finding always wins",
    ),
    pytest.param(
        [PASS, UNREADABLE], ("invoice_duplicate",), "asserted", SHIPPED, True, None,
        "review", ["could not be read"],
        id="what was not read is held for an agent, never confirmed",
    ),
    pytest.param(
        [PASS, REVIEWING], ("invoice_duplicate",), "asserted", SHIPPED, True, None,
        "review", ["Reply-To is a free mailbox"],
        id="a review finding the policy does not list is held for an agent",
    ),
    pytest.param(
        [PASS], ("transfer_out",), "asserted", SHIPPED, True, None,
        "review", ["needs the authorized level"],
        id="a confirmation never replaces a one-time code by default",
    ),
    pytest.param(
        [PASS], ("transfer_out",), "asserted", EVERYTHING, True, None,
        "confirmation_required", [ASKED],
        id="unless the policy says so",
    ),
    pytest.param(
        [finding("customer-match", "none")], ("invoice_duplicate",), "none", SHIPPED, True,
        None, "review", [],
        id="mail from another address is not confirmable by default",
    ),
    pytest.param(
        [PASS], ("invoice_duplicate",), "none", EVERYTHING, True, None,
        "confirmation_required", [ASKED],
        id="unless the policy lets senders at none be confirmed",
    ),
    pytest.param(
        [PASS], ("holder_change",), "asserted", EVERYTHING, True, None,
        "postal_required", ["signed documents sent by post"],
        id="a holder change stays postal",
    ),
    pytest.param(
        [PASS], ("invoice_duplicate",), "asserted", SHIPPED, True, CHANGED,
        "review",
        ["needs the authorized level", 'answered a confirmation with "this was not me"'],
        id="after the owner's denial the next request needs a level more",
    ),
    pytest.param(
        [PASS, DMARC], ("invoice_duplicate",), "authenticated", SHIPPED, True, None,
        "accepted", ["carries the authenticated level it needs"],
        id="what is authenticated needs no confirmation",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("findings", "kinds", "assurance", "rules", "confirmable", "denied", "outcome", "shown"),
    CONFIRMATION_PATHS,
)
def test_each_confirmation_path(
    findings: list[Finding],
    kinds: tuple[str, ...],
    assurance: str,
    rules: Rules,
    confirmable: bool,
    denied: date | None,
    outcome: str,
    shown: list[str],
) -> None:
    wanted = tuple(rules.kind(name) for name in kinds)
    decision = decide(
        findings, wanted, assurance, rules.policy, confirmable=confirmable, denied=denied
    )
    assert decision.decision == outcome, decision.reasons
    for text in shown:
        assert any(text in reason for reason in decision.reasons), (text, decision.reasons)
    assert_sentences(decision)


E_CESJA = dataclasses.replace(
    SHIPPED,
    policy=dataclasses.replace(
        SHIPPED.policy,
        confirmation=dataclasses.replace(SHIPPED.policy.confirmation, holder_change="confirm_both"),
    ),
)
BARTEK = NewHolder("bartek")
BOTH = "then the new holder through a link to theirs"
NOT_BY_MAIL = "cannot be confirmed by both holders by e-mail"
# (findings, kinds, assurance, rules, new holder, confirmable, denied day, decision, text)
HOLDER_CHANGE_PATHS = [
    pytest.param(
        [PASS], ("holder_change",), "asserted", E_CESJA, BARTEK, True, None,
        "confirmation_required", [BOTH, "customer bartek"],
        id="with confirm_both both holders are asked to confirm",
    ),
    pytest.param(
        [PASS, DMARC], ("holder_change",), "authenticated", E_CESJA, BARTEK, True, None,
        "confirmation_required", [BOTH],
        id="authenticated mail is confirmed by both holders too",
    ),
    pytest.param(
        [PASS], ("holder_change",), "asserted", SHIPPED, BARTEK, True, None,
        "postal_required", ["signed documents sent by post"],
        id="the default policy keeps it postal",
    ),
    pytest.param(
        [PASS], ("holder_change",), "asserted", E_CESJA, NewHolder(None, "no login named"),
        True, None, "postal_required", [NOT_BY_MAIL, "no login named"],
        id="without a registered new holder it stays postal and says why",
    ),
    pytest.param(
        [PASS], ("holder_change",), "asserted", E_CESJA, BARTEK, True, CHANGED,
        "postal_required", [NOT_BY_MAIL, "recently"],
        id="after a recent denial it stays postal",
    ),
    pytest.param(
        [PASS], ("holder_change",), "asserted", E_CESJA, BARTEK, False, None,
        "postal_required", ["signed documents sent by post"],
        id="without confirmation mail it stays postal",
    ),
    pytest.param(
        [PASS], ("holder_change", "invoice_duplicate"), "asserted", E_CESJA, BARTEK, True,
        None, "postal_required", ["signed documents sent by post"],
        id="beside another kind it stays postal",
    ),
    pytest.param(
        [finding("customer-match", "none")], ("holder_change",), "none",
        dataclasses.replace(
            E_CESJA,
            policy=dataclasses.replace(
                E_CESJA.policy,
                confirmation=dataclasses.replace(
                    E_CESJA.policy.confirmation, from_levels=("none", "asserted")
                ),
            ),
        ),
        BARTEK, True, None, "review", [],
        id="mail from another address never starts one, whatever senders says",
    ),
    pytest.param(
        [PASS, DMARC_REJECT], ("holder_change",), "asserted", E_CESJA, BARTEK, True, None,
        "rejected", ["p=reject"],
        id="a rejecting finding wins over e-cesja",
    ),
    pytest.param(
        [PASS, REVIEWING], ("holder_change",), "asserted", E_CESJA, BARTEK, True, None,
        "review", ["Reply-To is a free mailbox"],
        id="a review finding the policy does not list holds it for an agent",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    (
        "findings", "kinds", "assurance", "rules", "new_holder", "confirmable", "denied",
        "outcome", "shown",
    ),
    HOLDER_CHANGE_PATHS,
)  # fmt: skip
def test_each_holder_change_path(
    findings: list[Finding],
    kinds: tuple[str, ...],
    assurance: str,
    rules: Rules,
    new_holder: NewHolder,
    confirmable: bool,
    denied: date | None,
    outcome: str,
    shown: list[str],
) -> None:
    wanted = tuple(rules.kind(name) for name in kinds)
    decision = decide(
        findings,
        wanted,
        assurance,
        rules.policy,
        confirmable=confirmable,
        denied=denied,
        new_holder=new_holder if rules.policy.confirmation.both_holders else None,
    )
    assert decision.decision == outcome, decision.reasons
    for text in shown:
        assert any(text in reason for reason in decision.reasons), (text, decision.reasons)
    assert_sentences(decision)


# Through the decision service: the registry, the codes and the rules on disk.
FROM_ACME = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
ACME = CustomerData(
    panel_email="jan@acme.pl", kind="company", name="ACME sp. z o.o.", services=("acme.pl",)
)
BETA = CustomerData(panel_email="ola@beta.pl", kind="person", name="Ola", services=("beta.pl",))


@pytest.fixture
def registered(service: DecisionService) -> DecisionService:
    with service.sessions.begin() as session:
        put_customer(session, validate("acme", ACME), SECRET_KEY.encode())
        put_customer(session, validate("beta", BETA), SECRET_KEY.encode())
    return service


def submit(service: DecisionService, body: str) -> dict[str, object]:
    raw = make_message(subject="Sprawa", body=body)
    return service.submit(parse_message(raw, FROM_ACME, Channel.API))


def issue(service: DecisionService) -> str:
    assert service.code_key is not None
    with service.sessions.begin() as session:
        acme = session.scalars(select(Customer).where(Customer.login == "acme")).one()
        issued = issue_code(
            session, acme, service.code_key, timedelta(minutes=15), datetime.now(UTC)
        )
    return issued.code


def lock(service: DecisionService) -> None:
    with service.sessions.begin() as session:
        acme = session.scalars(select(Customer).where(Customer.login == "acme")).one()
        for _ in range(MAX_FAILED_ATTEMPTS):
            session.add(
                FailedCodeAttempt(
                    customer_id=acme.id, attempted_at=datetime.now(UTC), channel="mail"
                )
            )


def check(verdict: dict[str, object], name: str) -> dict[str, str]:
    checks = verdict["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["name"] == name)


@pytest.mark.parametrize(
    ("body", "decision", "assurance", "evidence"),
    [
        pytest.param(
            "Proszę o zmianę DNS dla acme.pl.",
            "accepted",
            "authenticated",
            ("service-scope", "pass"),
            id="an authenticated request about the sender's own service is accepted",
        ),
        pytest.param(
            "Proszę o zmianę DNS dla poczta.acme.pl.",
            "accepted",
            "authenticated",
            ("service-scope", "pass"),
            id="a host of the sender's own domain names that domain",
        ),
        pytest.param(
            "Mam pytanie, do kiedy jest opłacony hosting?",
            "accepted",
            "authenticated",
            ("service-scope", "pass"),
            id="an inquiry naming no service is accepted, as it acts on none",
        ),
        pytest.param(
            "Dzień dobry, dziękuję.",
            "review",
            "authenticated",
            ("instruction-kind", "none"),
            id="a request the catalogue does not recognise is held for an agent",
        ),
        pytest.param(
            "Proszę o zmianę DNS, jak rozmawialiśmy.",
            "review",
            "authenticated",
            ("service-scope", "none"),
            id="a DNS change naming no service is held for an agent",
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla acme.pl.",
            "otp_required",
            "authenticated",
            ("customer-match", "pass"),
            id="a transfer without a code needs one",
        ),
        pytest.param(
            "Proszę o zmianę DNS dla acme.pl i beta.pl.",
            "review",
            "authenticated",
            ("service-scope", "mixed"),
            id="another customer's service beside the sender's own is held",
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla beta.pl.",
            "rejected",
            "none",
            ("customer-match", "fail"),
            id="only another customer's service is rejected",
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla www.beta.pl.",
            "rejected",
            "none",
            ("customer-match", "fail"),
            id="a host of another customer's domain names that domain and is rejected",
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla b\u0435ta.pl.",
            "rejected",
            "none",
            ("service-scope", "lookalike"),
            id="a Cyrillic look-alike of another customer's domain is rejected",
        ),
        pytest.param(
            "Proszę o zmianę abonenta acme.pl.",
            "postal_required",
            "authenticated",
            ("customer-match", "pass"),
            id="a holder change needs documents by post",
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla acme.pl. Kod jednorazowy: 0000-0000",
            "review",
            "authenticated",
            ("one-time-code", "fail"),
            id="an invalid code is held for an agent",
        ),
    ],
)
def test_the_intake_decision(
    registered: DecisionService,
    body: str,
    decision: str,
    assurance: str,
    evidence: tuple[str, str],
) -> None:
    verdict = submit(registered, body)
    assert (verdict["decision"], verdict["assurance"]) == (decision, assurance), verdict["reasons"]
    assert check(verdict, evidence[0])["result"] == evidence[1]
    reasons = verdict["reasons"]
    assert isinstance(reasons, list) and reasons
    for reason in reasons:
        assert one_sentence(reason), reason


def test_a_valid_code_authorizes_once(registered: DecisionService) -> None:
    code = issue(registered)
    first = submit(registered, f"Proszę o kod AuthInfo dla acme.pl.\nKod jednorazowy: {code}")
    assert (first["decision"], first["assurance"]) == ("accepted", "authorized")
    assert check(first, "one-time-code")["result"] == "pass"
    again = submit(registered, f"Proszę o kod AuthInfo dla acme.pl.\nKod: {code}")
    assert again["decision"] == "review"
    assert "has already been used" in check(again, "one-time-code")["reason"]


def test_locked_code_checking_sends_the_message_to_an_agent(registered: DecisionService) -> None:
    code = issue(registered)
    lock(registered)
    verdict = submit(registered, f"Proszę o kod AuthInfo dla acme.pl.\nKod: {code}")
    assert (verdict["decision"], verdict["assurance"]) == ("review", "authenticated")
    assert check(verdict, "one-time-code")["result"] == "locked"


def test_the_lockout_reason_is_one_sentence(registered: DecisionService) -> None:
    lock(registered)
    verdict = submit(registered, "Proszę o kod AuthInfo dla acme.pl.\nKod: 1234-5678")
    reasons = verdict["reasons"]
    assert isinstance(reasons, list)
    assert all(one_sentence(reason) for reason in reasons), reasons


def test_an_edited_policy_file_changes_a_decision_without_code(
    registered: DecisionService, repo_rules: Path
) -> None:
    path = repo_rules / "policy.toml"
    text = path.read_text(encoding="utf-8")
    old = '"service-scope.mixed" = "review"'
    assert old in text
    path.write_text(text.replace(old, '"service-scope.mixed" = "reject"'), encoding="utf-8")
    stricter = DecisionService(
        registered.sessions,
        load_rules(repo_rules),
        registered.signer,
        resolver=registered.resolver,
        trust=registered.trust,
        code_key=registered.code_key,
    )
    body = "Proszę o zmianę DNS dla acme.pl i beta.pl."
    assert submit(registered, body)["decision"] == "review"
    after = submit(stricter, body)
    assert after["decision"] == "rejected"
    assert after["rules_version"] != registered.rules.version


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param("Proszę o kod AuthInfo dla https://beta.pl/domena.", id="written as a URL"),
        pytest.param("Proszę o kod AuthInfo dla www.beta.pl.", id="written as a host of it"),
        pytest.param("Proszę o kod AuthInfo dla poczta.beta.pl.", id="written as its mail host"),
        pytest.param(
            "Proszę o kod AuthInfo dla b\u0435ta.pl.", id="written with a Cyrillic letter"
        ),
        pytest.param(
            "Proszę o kod AuthInfo dla acme.pl i beta.pl.", id="beside another customer's service"
        ),
        pytest.param(
            "Proszę zrobić to, o czym rozmawialiśmy.", id="in words the catalogue does not know"
        ),
    ],
)
def test_the_senders_own_valid_code_authorizes_only_a_recognised_request_of_their_own(
    registered: DecisionService, request_: str
) -> None:
    code = issue(registered)
    verdict = submit(registered, f"{request_}\nKod jednorazowy: {code}")
    assert verdict["decision"] != "accepted", verdict["reasons"]
    assert verdict["assurance"] != "authorized"
    assert check(verdict, "one-time-code")["result"] == "unchecked"
    # Not used up: the customer's own request with it still goes through.
    own = submit(registered, f"Proszę o kod AuthInfo dla acme.pl.\nKod jednorazowy: {code}")
    assert (own["decision"], own["assurance"]) == ("accepted", "authorized"), own["reasons"]
