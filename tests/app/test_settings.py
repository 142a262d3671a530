"""Settings: defaults, environment over TOML, and one clear line for a bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import ConfigError
from app.settings import (
    DEFAULT_DATABASE_URL,
    ENV_PREFIX,
    Settings,
    default_rules_dir,
    load_settings,
    split_listen,
    split_nameserver,
)
from tests.support import REPO

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No INTAKEGUARD_* variable of the shell running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intakeguard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(config_file: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/intakeguard.db"
    assert settings.http_listen == "127.0.0.1:8080"
    assert settings.smtp_listen == "127.0.0.1:2525"
    # The milter is off until MILTER_LISTEN is set; rejected mail is stamped and passed on.
    assert settings.milter_listen is None
    assert settings.milter_rejected == "tag"
    assert settings.dns_nameservers == []
    assert settings.dns_timeout == 5.0
    assert settings.authserv_id == "intakeguard"
    assert settings.trusted_authserv_ids == []
    assert settings.trusted_arc_sealers == []
    assert settings.intake_recipients == []
    assert settings.rules_dir == default_rules_dir()
    assert settings.admin_token is None
    assert settings.secret_key is None
    assert settings.api_url is None
    assert settings.api_token is None
    assert settings.max_message_bytes == 26214400
    assert settings.log_level == "INFO"
    assert settings.ready_min_free_mb == 100
    assert settings.checkpoint_interval == 3600
    # The SMTP limits (README "SMTP limits"): none lets one client hold a slot for long.
    assert settings.smtp_max_sessions_per_client == 20
    assert settings.smtp_idle_timeout == 60.0
    assert settings.smtp_session_timeout == 600.0
    assert settings.smtp_data_timeout == 30.0
    assert settings.smtp_data_min_rate == 500


def test_without_rules_dir_the_checkout_runs_on_its_own_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From a checkout nothing is copied: the default catalogue is rules/ itself, whatever
    # the working directory (a wheel has its copy instead: tests/test_packaging.py).
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.rules_dir == REPO / "rules"
    assert settings.rules_source().startswith("the default catalogue shipped in the package")


def test_an_explicit_rules_dir_wins_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKEGUARD_RULES_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.rules_dir == tmp_path
    assert settings.rules_source().startswith("set by INTAKEGUARD_RULES_DIR")
    monkeypatch.delenv("INTAKEGUARD_RULES_DIR")
    from_file = load_settings(toml(tmp_path, f"rules_dir = {str(tmp_path)!r}\n"))
    assert from_file.rules_dir == tmp_path
    assert from_file.rules_source().startswith("set by INTAKEGUARD_RULES_DIR")


def test_a_rules_directory_left_in_the_working_directory_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RULES_DIR used to default to ./rules: an edited copy there is not dropped silently.
    monkeypatch.chdir(tmp_path)
    assert load_settings().unread_local_rules() is None
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "policy.toml").write_text("")
    warning = load_settings().unread_local_rules()
    assert warning == (
        f"{tmp_path / 'rules'} is not read: without INTAKEGUARD_RULES_DIR the default "
        "catalogue is; set INTAKEGUARD_RULES_DIR=rules to use that directory"
    )
    monkeypatch.setenv("INTAKEGUARD_RULES_DIR", "rules")
    assert load_settings().unread_local_rules() is None
    monkeypatch.delenv("INTAKEGUARD_RULES_DIR")
    # In the checkout ./rules is the default catalogue itself.
    monkeypatch.chdir(REPO)
    assert load_settings().unread_local_rules() is None


def test_the_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKEGUARD_HTTP_LISTEN", "127.0.0.1:9090")
    monkeypatch.setenv("INTAKEGUARD_SECRET_KEY", SECRET)
    monkeypatch.setenv("INTAKEGUARD_DNS_TIMEOUT", "2.5")
    monkeypatch.setenv("INTAKEGUARD_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.http_listen == "127.0.0.1:9090"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings)
    assert settings.dns_timeout == 2.5
    assert settings.log_level == "DEBUG"


def test_toml_values_apply_and_the_environment_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = toml(
        tmp_path,
        'http_listen = "127.0.0.1:9000"\n'
        'smtp_listen = "127.0.0.1:2626"\n'
        'trusted_arc_sealers = ["google.com", "outlook.com"]\n',
    )
    monkeypatch.setenv("INTAKEGUARD_HTTP_LISTEN", "127.0.0.1:9001")
    settings = load_settings(path)
    assert settings.http_listen == "127.0.0.1:9001"
    assert settings.smtp_listen == "127.0.0.1:2626"
    assert settings.trusted_arc_sealers == ["google.com", "outlook.com"]


def test_comma_lists_from_the_environment_and_from_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKEGUARD_TRUSTED_AUTHSERV_IDS", " mx.hosting.example, ,mx2.example,")
    monkeypatch.setenv("INTAKEGUARD_DNS_NAMESERVERS", "127.0.0.1,127.0.0.2:5353,::1,[::1]:5353")
    monkeypatch.setenv("INTAKEGUARD_INTAKE_RECIPIENTS", "support@hosting.example,@desk.example")
    path = toml(tmp_path, 'trusted_arc_sealers = "google.com, outlook.com"\n')
    settings = load_settings(path)
    assert settings.trusted_authserv_ids == ["mx.hosting.example", "mx2.example"]
    assert settings.dns_nameservers == ["127.0.0.1", "127.0.0.2:5353", "::1", "[::1]:5353"]
    assert settings.intake_recipients == ["support@hosting.example", "@desk.example"]
    assert settings.trusted_arc_sealers == ["google.com", "outlook.com"]


@pytest.mark.parametrize(
    ("value", "server"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_split_nameserver(value: str, server: tuple[str, int]) -> None:
    assert split_nameserver(value) == server


@pytest.mark.parametrize(
    ("value", "listen"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:2525", ("::1", 2525))],
)
def test_split_listen(value: str, listen: tuple[str, int]) -> None:
    assert split_listen(value) == listen


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HTTP_LISTEN", "nope", "INTAKEGUARD_HTTP_LISTEN: 'nope' is not host:port"),
        ("SMTP_LISTEN", "127.0.0.1:70000", "INTAKEGUARD_SMTP_LISTEN: '127.0.0.1:70000' is not"),
        ("DNS_NAMESERVERS", "x.y", "INTAKEGUARD_DNS_NAMESERVERS: 'x.y' is not an ip or ip:port"),
        ("DNS_NAMESERVERS", "127.0.0.1:99999", "INTAKEGUARD_DNS_NAMESERVERS: '127.0.0.1:99999'"),
        ("SECRET_KEY", "too-short", "INTAKEGUARD_SECRET_KEY: must be at least 32 characters"),
        ("ADMIN_TOKEN", "short", "INTAKEGUARD_ADMIN_TOKEN: must be at least 24 characters"),
        ("DNS_TIMEOUT", "soon", "INTAKEGUARD_DNS_TIMEOUT: "),
        ("DNS_TIMEOUT", "0", "INTAKEGUARD_DNS_TIMEOUT: "),
        ("MAX_MESSAGE_BYTES", "10", "INTAKEGUARD_MAX_MESSAGE_BYTES: "),
        ("DATABASE_URL", "mysql://db/x", "INTAKEGUARD_DATABASE_URL: must start with sqlite:///"),
        ("LOG_LEVEL", "LOUD", "INTAKEGUARD_LOG_LEVEL: 'LOUD' is not one of DEBUG"),
        ("READY_MIN_FREE_MB", "-1", "INTAKEGUARD_READY_MIN_FREE_MB: "),
        ("READY_MIN_FREE_MB", "lots", "INTAKEGUARD_READY_MIN_FREE_MB: "),
        ("CHECKPOINT_INTERVAL", "-1", "INTAKEGUARD_CHECKPOINT_INTERVAL: "),
        ("CHECKPOINT_INTERVAL", "hourly", "INTAKEGUARD_CHECKPOINT_INTERVAL: "),
        ("SMTP_MAX_SESSIONS_PER_CLIENT", "0", "INTAKEGUARD_SMTP_MAX_SESSIONS_PER_CLIENT: "),
        ("SMTP_IDLE_TIMEOUT", "0", "INTAKEGUARD_SMTP_IDLE_TIMEOUT: "),
        ("SMTP_IDLE_TIMEOUT", "a while", "INTAKEGUARD_SMTP_IDLE_TIMEOUT: "),
        ("SMTP_SESSION_TIMEOUT", "-1", "INTAKEGUARD_SMTP_SESSION_TIMEOUT: "),
        ("SMTP_DATA_TIMEOUT", "0", "INTAKEGUARD_SMTP_DATA_TIMEOUT: "),
        ("SMTP_DATA_MIN_RATE", "0", "INTAKEGUARD_SMTP_DATA_MIN_RATE: "),
        ("MILTER_LISTEN", "8891", "INTAKEGUARD_MILTER_LISTEN: '8891' is not host:port"),
        ("MILTER_REJECTED", "drop", "INTAKEGUARD_MILTER_REJECTED: "),
    ],
)
def test_an_invalid_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(f"INTAKEGUARD_{name}", value)
    assert config_error().startswith(expected)


def test_an_invalid_value_in_toml_names_the_setting(tmp_path: Path) -> None:
    path = toml(tmp_path, 'http_listen = "nope"\n')
    assert config_error(path) == "INTAKEGUARD_HTTP_LISTEN: 'nope' is not host:port"


def test_an_unknown_toml_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = toml(tmp_path, 'http_listen = "127.0.0.1:9000"\nsecret_kee = "x"\n')
    message = config_error(path)
    assert str(path) in message
    assert "unknown setting 'secret_kee'" in message
    assert "INTAKEGUARD_SECRET_KEE" in message


def test_bad_toml_syntax_names_the_file(tmp_path: Path) -> None:
    path = toml(tmp_path, "http_listen = \n")
    message = config_error(path)
    assert message.startswith(f"INTAKEGUARD_CONFIG / --config {path}: invalid TOML")
    assert "line 1" in message


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin2.toml"
    path.write_bytes('authserv_id = "łódź"\n'.encode("iso-8859-2"))
    assert "invalid TOML" in config_error(path)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    expected = f"INTAKEGUARD_CONFIG / --config {path}: cannot be read (No such file or directory)"
    assert config_error(path) == expected


def test_require_secret_key_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings().require_secret_key()
    message = str(caught.value)
    assert message.startswith("INTAKEGUARD_SECRET_KEY: missing; set it to a random string")
    assert "32 characters" in message
    assert "\n" not in message


def test_require_secret_key_returns_the_key_as_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKEGUARD_SECRET_KEY", SECRET)
    assert load_settings().require_secret_key() == SECRET.encode()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(
            {"CONSOLE_TRUSTED_USER_HEADER": "X-Remote-User"},
            "INTAKEGUARD_CONSOLE_TRUSTED_PROXIES: required with "
            "INTAKEGUARD_CONSOLE_TRUSTED_USER_HEADER",
            id="the header without the proxies it is believed from",
        ),
        pytest.param(
            {"CONSOLE_TRUSTED_USER_HEADER": "X Remote User", "CONSOLE_TRUSTED_PROXIES": "10.0.0.1"},
            "INTAKEGUARD_CONSOLE_TRUSTED_USER_HEADER: 'X Remote User' is not an HTTP header name",
            id="a header name with spaces",
        ),
        pytest.param(
            {"CONSOLE_TRUSTED_USER_HEADER": "Cookie", "CONSOLE_TRUSTED_PROXIES": "10.0.0.1"},
            "INTAKEGUARD_CONSOLE_TRUSTED_USER_HEADER: 'Cookie' is a header browsers",
            id="a header the browser sets",
        ),
        pytest.param(
            {"CONSOLE_TRUSTED_USER_HEADER": "X-Remote-User", "CONSOLE_TRUSTED_PROXIES": "proxy"},
            "INTAKEGUARD_CONSOLE_TRUSTED_PROXIES: 'proxy' is not an IP address or network",
            id="a proxy named by host name",
        ),
    ],
)
def test_single_sign_on_settings_are_checked_together(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"INTAKEGUARD_{name}", value)
    assert config_error().startswith(expected)


def test_single_sign_on_is_off_by_default_and_reads_proxies_as_a_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().console_trusted_user_header is None
    assert Settings().console_trusted_proxies == []
    monkeypatch.setenv("INTAKEGUARD_CONSOLE_TRUSTED_USER_HEADER", " X-Remote-User ")
    monkeypatch.setenv("INTAKEGUARD_CONSOLE_TRUSTED_PROXIES", "10.0.0.5, 192.0.2.0/28,::1")
    settings = Settings()
    assert settings.console_trusted_user_header == "X-Remote-User"
    assert settings.console_trusted_proxies == ["10.0.0.5", "192.0.2.0/28", "::1"]
