"""service-scope: whether the services a message is about are the sender's own."""

from __future__ import annotations

from app.decision.checks import instruction_kind
from app.decision.checks.instruction_kind import described
from app.decision.named_services import Named
from mailhook.addresses import mask_address
from mailhook.catalogue import InstructionKind
from mailhook.checks import declare
from mailhook.findings import Finding

NAME = "service-scope"
RESULTS: tuple[str, ...] = ("pass", "none", "foreign", "mixed", "lookalike")
declare(NAME, "the services the message is about are the sender's own", results=RESULTS)


def service_scope(
    kinds: tuple[InstructionKind, ...],
    stated: tuple[Named, ...],
    mentioned: tuple[Named, ...],
    sender: str | None,
) -> Finding:
    """Judge the registered services named against the sender's panel address.

    ``stated``: named in the sender's own text; ``mentioned``: only in quoted or
    forwarded text, which never makes another customer's service the request's subject
    but holds a request that acts on a service. The first that applies: ``lookalike``
    (a name that only looks like a registered domain), ``foreign`` (only other
    customers' services: customer-match fails), ``mixed`` (another customer's service
    beside the sender's own, or quoted under a request that acts on a service),
    ``none`` (a request that acts on a service names none of the sender's), ``pass``.
    """
    acting = tuple(kind for kind in kinds if kind.acts_on_service)
    own = [named for named in stated if _holds(named, sender)]
    foreign = [named for named in stated if not _holds(named, sender)]
    quoted = [named for named in mentioned if not _holds(named, sender)]
    lookalikes = [named for named in (*stated, *mentioned) if named.how == "lookalike"]
    if lookalikes:
        imitated = lookalikes[0]
        return Finding(
            NAME,
            "lookalike",
            f"The message names {imitated.shown}, which looks like {_of(imitated)} but is not "
            f"it; an agent should treat it as naming {imitated.service.name_unicode} and "
            "confirm with the customer what is meant.",
        )
    if foreign and not own:
        return Finding(
            NAME,
            "foreign",
            f"The message is about {_listed(foreign)} and names none of the sender's own "
            "services; only the registered address of that customer may instruct about them.",
        )
    if foreign:
        return Finding(
            NAME,
            "mixed",
            f"Beside the sender's own {_names(own)}, the message names {_listed(foreign)}; "
            "an agent should confirm that the request about it is ordinary (a DNS target at "
            "an agency is) before acting, without alerting that customer.",
        )
    if quoted:
        # Whatever is marked as history is still on the reader's screen, and a line that
        # looks like an attribution ("On … wrote:") is as easy to write as any other: a
        # service of another customer there is never part of what is accepted.
        asks = f"asks for {described(kinds)}, and its" if kinds else "asks for nothing, and its"
        return Finding(
            NAME,
            "mixed",
            f"The message {asks} quoted, forwarded or attached text names {_listed(quoted)}; "
            "an agent should confirm that the request is not about that service.",
        )
    if acting and not own:
        return Finding(
            NAME,
            "none",
            f"The message asks for {described(acting)}, which changes a service, but names "
            "none of the services registered for the sender; an agent should ask the "
            "customer which service is meant.",
        )
    if own:
        return Finding(
            NAME, "pass", f"The services the message names are the sender's: {_names(own)}."
        )
    return Finding(
        NAME,
        "pass",
        "The message names no registered service, and nothing it asks for changes one.",
    )


def authorisable(findings: list[Finding]) -> bool:
    """Whether a one-time code may authorise the message: the catalogue recognised what it
    asks for (instruction-kind) and it is about the sender's own services only."""
    passed = {f.name for f in findings if f.result == "pass"}
    return {instruction_kind.NAME, NAME} <= passed


def _holds(named: Named, sender: str | None) -> bool:
    return sender is not None and named.service.customer.panel_email == sender


def _names(services: list[Named]) -> str:
    return ", ".join(dict.fromkeys(named.service.name_unicode for named in services))


def _of(named: Named) -> str:
    """The service and whose it is, the holder's address masked."""
    holder = named.service.customer
    return (
        f"{named.service.name_unicode} of customer {holder.login} "
        f"({mask_address(holder.panel_email)})"
    )


def _listed(services: list[Named]) -> str:
    return ", ".join(dict.fromkeys(_of(named) for named in services))
