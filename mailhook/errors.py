"""Exceptions of the mail side.

    MailhookError
    ├── UnusableMessage     input that is not a message at all (cannot be recorded)
    ├── TemporaryFailure    something needed is missing for now; the sender should retry
    └── RefusedCredentials  the decision API refused our token (configuration error)

A verdict is never an exception: a message that fails a check yields a finding.
"""


class MailhookError(Exception):
    """Root of every exception raised by ``mailhook``."""


class UnusableMessage(MailhookError):
    """The input cannot be read as an RFC 5322 message, so nothing can be recorded."""


class TemporaryFailure(MailhookError):
    """A resource a check needs is temporarily unavailable; retrying later may succeed."""


class RefusedCredentials(MailhookError):
    """The decision API refused the hand-off's credentials."""
