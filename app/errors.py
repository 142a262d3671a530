"""Exceptions of the decision side.

    IntakeguardError
    ├── ConfigError          a setting or the rules directory is invalid (exit 78)
    ├── StoreUnavailable     the database cannot be reached now (503, SMTP 451, exit 75)
    ├── NotFound             no such customer, verdict or token (404)
    ├── Conflict             the request contradicts what is stored (409)
    ├── RateLimited          asked again too soon (429 with Retry-After)
    └── InvalidInput         the request is understood but its content is wrong (422)

Third-party exceptions are translated at the boundary: a SQLAlchemy operational
error becomes StoreUnavailable. A verdict is never an exception.

A refusal an agent meets in the console also carries a ``reason`` (a name) and the
``values`` its sentence needs: the console says it in the agent's language
(app/console/refusals.py); the message itself is the API's, in English.
"""

from collections.abc import Mapping


class IntakeguardError(Exception):
    """Root of every exception raised by ``app``."""

    def __init__(
        self,
        detail: str = "",
        *,
        reason: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.values = {name: str(value) for name, value in (values or {}).items()}


class ConfigError(IntakeguardError):
    """A setting or a rules file is invalid; the message names it and what is expected."""


class StoreUnavailable(IntakeguardError):
    """The database is unreachable or busy; the caller should retry later."""


class NotFound(IntakeguardError):
    """The named object does not exist."""


class Conflict(IntakeguardError):
    """The request conflicts with the stored state."""


class InvalidInput(IntakeguardError):
    """The request is well-formed but its content is not acceptable."""


class RateLimited(IntakeguardError):
    """Asked again too soon; ``retry_after`` seconds until it may be asked again."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
