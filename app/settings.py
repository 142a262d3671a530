"""Settings: one class read from ``INTAKEGUARD_*`` variables and an optional TOML file."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.errors import ConfigError

ENV_PREFIX = "INTAKEGUARD_"
DEFAULT_DATABASE_URL = "sqlite:///var/intakeguard.db"

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every setting of intakeguard; see README.md "Settings" for what each does."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    http_listen: str = "127.0.0.1:8080"
    smtp_listen: str = "127.0.0.1:2525"
    dns_nameservers: CommaList = Field(default_factory=list)
    dns_timeout: float = Field(default=5.0, gt=0, le=60)
    authserv_id: str = "intakeguard"
    trusted_authserv_ids: CommaList = Field(default_factory=list)
    trusted_arc_sealers: CommaList = Field(default_factory=list)
    intake_recipients: CommaList = Field(default_factory=list)
    rules_dir: Path = Path("rules")
    admin_token: SecretStr | None = None
    secret_key: SecretStr | None = None
    api_url: str | None = None
    api_token: SecretStr | None = None
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    log_level: str = "INFO"

    @field_validator(
        "dns_nameservers",
        "trusted_authserv_ids",
        "trusted_arc_sealers",
        "intake_recipients",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("http_listen", "smtp_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, value: list[str]) -> list[str]:
        for item in value:
            host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"{item!r} is not an ip or ip:port") from None
            if port and not port.isdigit():
                raise ValueError(f"{item!r} has an invalid port")
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

    def require_secret_key(self) -> bytes:
        """The secret key, or a ConfigError saying how to set it."""
        if self.secret_key is None:
            raise ConfigError(
                f"{ENV_PREFIX}SECRET_KEY: missing; set it to a random string of at least "
                "32 characters (e.g. `openssl rand -hex 32`)"
            )
        return self.secret_key.get_secret_value().encode()


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as a tuple."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError(f"{value!r} is not host:port")
    return host.strip("[]"), int(port)


def load_settings(config_file: Path | None = None) -> Settings:
    """Read settings from the environment over ``config_file``; one-line ConfigError if bad."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--config {config_file}: cannot be read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config {config_file}: invalid TOML ({exc})") from None
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown setting; see README.md for the settings there are"
    return f"{ENV_PREFIX}{field.upper()}: {message}"
