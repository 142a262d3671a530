"""one-time-code, in mail: a code the message carries, checked for the customer it is from.

The code store and the comparison (app.registry.codes) are shared with the desk's
phone and chat verification; here is what mail adds: only a message that authenticates
as the customer, about its own services, may try a code, and a valid one is used up by
the verdict.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Customer, OneTimeCode
from app.db.types import utcnow
from app.decision.checks.service_scope import authorisable
from app.registry.codes import NAME as CODE_CHECK
from app.registry.codes import check_codes, consume
from app.verdict_types import Assurance
from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.instructions import Instruction

# pass, fail and locked come from the comparison with the stored codes; unchecked: a code
# in mail that does not authenticate; error: no secret key to check one with.
RESULTS: tuple[str, ...] = ("pass", "fail", "locked", "unchecked", "error")
declare(
    CODE_CHECK,
    "a one-time code in the message is valid, unused and the customer's",
    results=RESULTS,
)


def one_time_code(
    session: Session,
    instruction: Instruction,
    customer: Customer | None,
    findings: list[Finding],
    assurance: Assurance,
    code_key: bytes | None,
    consume_code: bool,
) -> tuple[Finding | None, OneTimeCode | None]:
    """The one-time-code finding for the codes in the message, and the code it used
    (consumed when ``consume_code``; else nothing is changed). ``assurance``: that of
    the findings so far (app.decision.policy.assurance_of)."""
    if not instruction.codes:
        return None, None
    if customer is None or assurance != "authenticated" or not authorisable(findings):
        # Only a message that authenticates as the customer may try a code: spoofed
        # mail neither guesses codes nor locks the customer's code checking. And a
        # code authorises only a recognised request about the customer's own services.
        return Finding(
            CODE_CHECK,
            "unchecked",
            "The message carries a one-time code, but a code counts only in a message "
            "that authenticates as the customer, asks for what the catalogue recognises "
            "and is about the customer's own services only; it was neither checked nor "
            "used.",
        ), None
    if code_key is None:
        return Finding(
            CODE_CHECK,
            "error",
            "The message carries a one-time code, but no secret key is configured to "
            "check it; an agent should verify the instruction another way.",
        ), None
    # Codes expire in real time, whatever clock the mail checks are judged against.
    now = utcnow()
    checked = check_codes(
        session,
        customer,
        instruction.codes,
        code_key,
        now,
        channel="mail",
        record_failures=consume_code,
    )
    if checked.code is None or not consume_code:
        return checked.finding, None
    if not consume(session, checked.code, now):
        # Another message used the same code between our check and now.
        return Finding(
            CODE_CHECK,
            "fail",
            f"The one-time code given for customer {customer.login} has already been "
            "used; ask the customer for a fresh code from the Customer Panel.",
        ), None
    return checked.finding, checked.code
