"""The checks the decision itself makes: what the request is and whose services it is about.

Declared here, apart from ``app/policy.py`` (which imports ``app.rules``), so the rules
loader can validate ``rules/policy.toml`` against them without an import circle. The
decision gives these findings; this module only says what each can be.
"""

from __future__ import annotations

from mailhook.checks import declare

# A request the catalogue recognises ("pass"), or none recognised ("none"): a message
# whose request was not understood is never accepted (rules.AT_LEAST_REVIEW).
INSTRUCTION_KIND = "instruction-kind"
INSTRUCTION_KIND_RESULTS: tuple[str, ...] = ("pass", "none")
declare(
    INSTRUCTION_KIND,
    "the message asks for a kind of request the catalogue recognises",
    results=INSTRUCTION_KIND_RESULTS,
)

# Whether the services a request acts on are the sender's own: "none" (a kind that
# acts on a service names none of the sender's), "foreign" (only another customer's),
# "mixed" (another customer's beside the sender's own), "lookalike" (a domain whose
# confusable skeleton equals a registered one but is not it).
SERVICE_SCOPE = "service-scope"
SERVICE_SCOPE_RESULTS: tuple[str, ...] = ("pass", "none", "foreign", "mixed", "lookalike")
declare(
    SERVICE_SCOPE,
    "the request concerns only the sender's own services",
    results=SERVICE_SCOPE_RESULTS,
)
