"""Settings: one class read from ``INTAKEGUARD_*`` variables and an optional TOML file."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.errors import ConfigError
from app.mailboxes import check_mailbox
from mailhook.context import TrustConfig
from mailhook.domains import normalise_domain

ENV_PREFIX = "INTAKEGUARD_"
DEFAULT_DATABASE_URL = "sqlite:///var/intakeguard.db"
# Where a built package carries the default catalogue, a copy of rules/ (setup.py).
PACKAGED_RULES = "default_rules"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")

CommaList = Annotated[list[str], NoDecode]
# RFC 9110 §5.1: a field name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Fields that carry something else than a login a proxy vouches for: a browser or the
# client sets them, or HTTP itself does.
_NOT_A_USER_HEADER = frozenset(
    (
        "authorization", "cookie", "host", "origin", "referer", "user-agent", "content-type",
        "content-length", "transfer-encoding", "connection", "forwarded", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host", "x-real-ip",
    )
)  # fmt: skip


def default_rules_dir() -> Path:
    """The catalogue used when INTAKEGUARD_RULES_DIR is not set: the package's own.

    A built package carries ``rules/`` as ``app/default_rules/`` (copied at build time by
    setup.py). Run from a checkout (an editable install, the tests), nothing is copied:
    the default is the checkout's ``rules/`` itself, the directory that is shipped.
    """
    package = Path(str(resources.files("app")))
    shipped = package / PACKAGED_RULES
    checkout = package.parent
    if not shipped.is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "rules"
    return shipped


class Settings(BaseSettings):
    """Every setting of intakeguard; see README.md "Settings" for what each does."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    http_listen: str = "127.0.0.1:8080"
    smtp_listen: str = "127.0.0.1:2525"
    # host:port of the milter door (mailhook.milter); unset = no milter. `serve` starts it
    # when set, `intakeguard milter` runs it alone.
    milter_listen: str | None = None
    # What the milter does with mail whose verdict is rejected: stamp it and pass it on
    # (tag), have the MTA hold it (quarantine), or refuse it with a 550 (reject).
    milter_rejected: Literal["tag", "quarantine", "reject"] = "tag"
    # The desk's addresses and @domains the milter checks; other mail goes on unchecked.
    milter_recipients: CommaList = Field(default_factory=list)
    dns_nameservers: CommaList = Field(default_factory=list)
    dns_timeout: float = Field(default=5.0, gt=0, le=60)
    authserv_id: str = "intakeguard"
    trusted_authserv_ids: CommaList = Field(default_factory=list)
    trusted_arc_sealers: CommaList = Field(default_factory=list)
    intake_recipients: CommaList = Field(default_factory=list)
    provider_domains: CommaList = Field(default_factory=list)
    # Unset: the default catalogue shipped in the package (default_rules_dir).
    rules_dir: Path = Field(default_factory=default_rules_dir)
    admin_token: SecretStr | None = None
    secret_key: SecretStr | None = None
    api_url: str | None = None
    api_token: SecretStr | None = None
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    trusted_relays: CommaList = Field(default_factory=list)
    smtp_max_sessions: int = Field(default=200, ge=1)
    smtp_max_connections_per_minute: int = Field(default=120, ge=1)
    # At once per client IP (IPv6: per /64); TRUSTED_RELAYS are exempt.
    smtp_max_sessions_per_client: int = Field(default=20, ge=1)
    # Seconds: waiting for the next command; a whole session; any DATA section, which
    # beyond that must keep up SMTP_DATA_MIN_RATE bytes a second on average.
    smtp_idle_timeout: float = Field(default=60.0, gt=0, le=3600)
    smtp_session_timeout: float = Field(default=600.0, gt=0, le=86400)
    smtp_data_timeout: float = Field(default=30.0, gt=0, le=3600)
    smtp_data_min_rate: int = Field(default=500, ge=1)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    proxy_protocol: bool = False
    log_level: str = "INFO"
    # json or text; unset: json for serve/api/smtp, text for one-shot commands (app.logs).
    log_format: str | None = None
    # Processes `intakeguard serve` runs, each with the API and the SMTP receiver on the
    # same ports (app.server.supervisor); "auto" = one per CPU core. 1 = one process, no supervisor.
    workers: int = Field(default=1, ge=1, le=64)
    # On SIGTERM, how long SMTP transactions and HTTP requests in flight may take to finish.
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    # How long serve/api/smtp wait, retrying, for the database to answer at start.
    db_connect_timeout: float = Field(default=30.0, ge=0, le=3600)
    # host:port of a /metrics HTTP server of its own (for `intakeguard smtp` without the API).
    metrics_listen: str | None = None
    recent_change_days: int = Field(default=14, ge=0, le=3650)
    # How long a one-time code from POST /v1/customers/{login}/codes stays valid.
    code_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Hosts webhook URLs may point at; empty (the default) refuses every webhook URL.
    webhook_allowed_hosts: CommaList = Field(default_factory=list)
    webhook_timeout: float = Field(default=10.0, gt=0, le=120)
    # Outbound relay (host:port) for alerts to registered owners; unset = alerts off.
    alert_smtp_relay: str | None = None
    alert_from: str | None = None
    alert_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # Base of links in mail to customers (https://intake.hosting.example); unset =
    # confirmation by the owner is off (no verdict is confirmation_required).
    public_url: str | None = None
    # host:port of the confirmation page on a listener of its own (without the API);
    # unset: /confirm/<token> is served on HTTP_LISTEN.
    confirm_listen: str | None = None
    # How long a confirmation link stays valid.
    confirm_ttl_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    # Confirmation mails per customer per hour (a limit of their own, not the alerts').
    confirm_max_per_hour: int = Field(default=3, ge=1, le=100)
    # The agents' console: a session ends after this long without a request, and after
    # CONSOLE_SESSION_HOURS in any case.
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_session_hours: int = Field(default=12, ge=1, le=7 * 24)
    # Single sign-on (app.console.sso): the header a reverse proxy sets to the agent's
    # login, believed only from the CONSOLE_TRUSTED_PROXIES addresses; unset: off.
    console_trusted_user_header: str | None = None
    console_trusted_proxies: CommaList = Field(default_factory=list, validate_default=True)
    # Raw messages older than this are emptied by app.records.retention; verdicts and hashes stay.
    raw_retention_days: int = Field(default=90, ge=1, le=36500)
    # /readyz turns 503 below this much free space on SQLite's filesystem (MiB); a message
    # may be MAX_MESSAGE_BYTES (25 MiB) and is written with its WAL copy.
    ready_min_free_mb: int = Field(default=100, ge=0, le=1_000_000)
    # Seconds between signed audit checkpoints (app.records.checkpoints); 0 turns them off.
    checkpoint_interval: int = Field(default=3600, ge=0, le=7 * 24 * 3600)

    @field_validator(
        "dns_nameservers",
        "trusted_authserv_ids",
        "trusted_arc_sealers",
        "intake_recipients",
        "milter_recipients",
        "trusted_relays",
        "provider_domains",
        "webhook_allowed_hosts",
        "console_trusted_proxies",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("workers", mode="before")
    @classmethod
    def _auto_workers(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return cpu_count()
        return value

    @field_validator("http_listen", "smtp_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("milter_listen")
    @classmethod
    def _milter_listen(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, value: list[str]) -> list[str]:
        for item in value:
            split_nameserver(item)
        return value

    @field_validator("console_trusted_user_header")
    @classmethod
    def _user_header(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not an HTTP header name (RFC 9110 §5.1)")
        if value.lower() in _NOT_A_USER_HEADER:
            raise ValueError(
                f"{value!r} is a header browsers or proxies set for another purpose; "
                "name one the proxy sets only to the user's login (e.g. X-Remote-User)"
            )
        return value

    @field_validator("console_trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str], info: ValidationInfo) -> list[str]:
        value = cls._networks(value)
        if info.data.get("console_trusted_user_header") and not value:
            raise ValueError(
                f"required with {ENV_PREFIX}CONSOLE_TRUSTED_USER_HEADER: the addresses or "
                "networks of the reverse proxies that set it (without them the header "
                "would be believed from nobody, and single sign-on would silently be off)"
            )
        return value

    @field_validator("trusted_relays")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("intake_recipients", "milter_recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for item in value:
            _, at, domain = item.rpartition("@")
            if not at or not domain or "." not in domain:
                raise ValueError(f"{item!r} is neither an address nor an @domain")
        return [item.lower() for item in value]

    @field_validator("provider_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        names = [normalise_domain(item) for item in value]
        for item, name in zip(value, names, strict=True):
            if "." not in name or not name.isascii() or name.startswith("."):
                raise ValueError(f"{item!r} is not a domain name")
        # Lower-case A-labels, as the look-alike lookup compares them.
        return names

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of " + ", ".join(LOG_LEVELS))
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in LOG_FORMATS:
            raise ValueError(f"{value!r} is not one of " + ", ".join(LOG_FORMATS))
        return value.lower() if value is not None else None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL such as https://intake.example")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain base URL (no query, fragment or credentials)")
        return value.rstrip("/")

    @field_validator("metrics_listen", "confirm_listen")
    @classmethod
    def _metrics_listen(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("admin_token", "api_token")
    @classmethod
    def _token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 24:
            raise ValueError("must be at least 24 characters")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _webhook_hosts(cls, value: list[str]) -> list[str]:
        for item in value:
            if any(c in item for c in "/:@ ") and not _is_ip(item):
                raise ValueError(f"{item!r} is not a host name or IP address (no scheme or port)")
        return [item.lower().rstrip(".").strip("[]") for item in value]

    @field_validator("alert_smtp_relay")
    @classmethod
    def _relay(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("alert_from")
    @classmethod
    def _alert_from(cls, value: str | None) -> str | None:
        return check_mailbox(value) if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the TOML file, which arrives as init values.
        return (env_settings, init_settings)

    def trust(self) -> TrustConfig:
        """Whose authentication results the mail checks may take on trust."""
        return TrustConfig(
            authserv_id=self.authserv_id,
            trusted_authserv_ids=frozenset(i.lower() for i in self.trusted_authserv_ids),
            trusted_arc_sealers=frozenset(d.lower().rstrip(".") for d in self.trusted_arc_sealers),
            # The provider's own domains and those of the intake addresses: where a customer
            # writes to the desk, whatever address the mail server then hands it to.
            desk_domains=frozenset(
                [*self.provider_domains, *(r.rpartition("@")[2] for r in self.intake_recipients)]
            ),
        )

    def rules_source(self) -> str:
        """Where ``rules_dir`` comes from, for ``rules check`` and the start-up log."""
        if "rules_dir" in self.model_fields_set:
            return f"set by {ENV_PREFIX}RULES_DIR (or rules_dir in the settings file)"
        return f"the default catalogue shipped in the package ({ENV_PREFIX}RULES_DIR not set)"

    def unread_local_rules(self) -> str | None:
        """A warning when ``./rules`` holds a policy that is not read, or None.

        Before the catalogue shipped in the package, RULES_DIR defaulted to ``rules`` in
        the working directory: an operator's edited copy there must not be dropped for
        the default one without a word.
        """
        local = Path("rules")
        if "rules_dir" in self.model_fields_set or not (local / "policy.toml").is_file():
            return None
        if local.resolve() == self.rules_dir.resolve():
            return None
        return (
            f"{local.resolve()} is not read: without {ENV_PREFIX}RULES_DIR the default "
            f"catalogue is; set {ENV_PREFIX}RULES_DIR=rules to use that directory"
        )

    def require_secret_key(self) -> bytes:
        """The secret key, or a ConfigError saying how to set it."""
        if self.secret_key is None:
            raise ConfigError(
                f"{ENV_PREFIX}SECRET_KEY: missing; set it to a random string of at least "
                "32 characters (e.g. `openssl rand -hex 32`)"
            )
        return self.secret_key.get_secret_value().encode()


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def cpu_count() -> int:
    """The CPU cores this process may use: those it may run on (a container's CPU set),
    fewer when a cgroup v2 quota (``docker run --cpus 2``) allows less time than that."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return cores
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return cores
    return max(1, min(cores, math.ceil(int(quota) / int(period))))


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as a tuple."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError(f"{value!r} is not host:port")
    return host.strip("[]"), int(port)


def split_nameserver(value: str) -> tuple[str, int]:
    """``ip``, ``ip:port`` or ``[v6]:port`` as (ip, port); port 53 when none is given."""
    host, port = value, "53"
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if not rest.startswith(":"):
            raise ValueError(f"{value!r} is not an ip or ip:port ([ipv6]:port)")
        port = rest[1:]
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r} is not an ip or ip:port") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} has an invalid port")
    return host, int(port)


def load_settings(config_file: Path | None = None) -> Settings:
    """Read settings from the environment over ``config_file``; one-line ConfigError if bad."""
    values: dict[str, Any] = {}
    source = f"{ENV_PREFIX}CONFIG / --config {config_file}"
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot be read ({exc.strerror})") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{source}: invalid TOML ({exc})") from None
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def _describe(exc: ValidationError, source: str) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        # Only the TOML file can hold an unknown name: unknown variables are not read.
        return (
            f"{source}: unknown setting {field!r} (there is no {ENV_PREFIX}{field.upper()}); "
            "see README.md for the settings there are"
        )
    return f"{ENV_PREFIX}{field.upper()}: {message}"
