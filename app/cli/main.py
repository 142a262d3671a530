"""The ``intakeguard`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app.cli import commands
from app.errors import ConfigError, Conflict, InvalidInput, NotFound, StoreUnavailable
from app.sysexits import EX_CONFIG, EX_DATAERR, EX_IOERR, EX_OK, EX_TEMPFAIL, EX_USAGE

if TYPE_CHECKING:
    from app.server.worker_role import WorkerRole
    from app.settings import Settings
    from app.signing import PublicKey


log = logging.getLogger("intakeguard")

# Where `intakeguard milter` listens without INTAKEGUARD_MILTER_LISTEN or --listen (the
# README's example; OpenDKIM's guides often take 8891 too: give one of the two another
# port when both run).
DEFAULT_MILTER_LISTEN = "127.0.0.1:8891"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # What a worker of `serve --workers` runs again (app.server.supervisor).
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if not hasattr(args, "run"):
        # A command group without its action ("intakeguard db"): show what it offers.
        args.help_of.print_help(sys.stderr)
        return EX_USAGE
    # Imported here, not at the top: --help and usage errors need none of it.
    from app.settings import load_settings

    try:
        settings = load_settings(args.config)
        from app.logs import configure_logging
        from app.server.worker_role import worker_number

        # JSON lines by default for the long-running commands, text for one-shot ones.
        log_format = (
            getattr(args, "log_format", None)
            or settings.log_format
            or getattr(args, "default_log_format", "text")
        )
        configure_logging(str(log_format), settings.log_level, worker_number())
        code: int = args.run(settings, args)
        return code
    except ConfigError as exc:
        print(f"intakeguard: configuration error: {exc}", file=sys.stderr)
        return EX_CONFIG
    except StoreUnavailable as exc:
        print(f"intakeguard: database unavailable, try again later: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except (InvalidInput, Conflict, NotFound) as exc:
        print(f"intakeguard: {exc}", file=sys.stderr)
        return EX_DATAERR
    except BrokenPipeError:
        # Output piped into a reader that stopped early ("rules check | head"): nothing
        # is wrong with intakeguard. Python would complain again flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_IOERR


class _Parser(argparse.ArgumentParser):
    """argparse with the sysexits usage code (64) instead of its own 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="intakeguard",
        description="Verify emailed instructions before a support desk acts on them.",
        epilog="Settings come from INTAKEGUARD_* variables over the --config file; see README.md.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=_env_path("INTAKEGUARD_CONFIG"),
        help="TOML settings file (default: $INTAKEGUARD_CONFIG); the environment overrides it",
    )
    parser.add_argument(
        "--version", action="version", version=f"intakeguard {_version()}", help="print the version"
    )
    parser.set_defaults(help_of=parser)
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def group(name: str, help: str) -> Any:
        sub = subcommands.add_parser(name, help=help, description=help)
        sub.set_defaults(help_of=sub)
        return sub.add_subparsers(title="actions", metavar="ACTION")

    def command(name: str, run: Callable[[Settings, argparse.Namespace], int], help: str) -> Any:
        sub = subcommands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    serve = command(
        "serve",
        _serve,
        "run the decision API and the SMTP receiver in one process, or in --workers processes",
    )
    serve.add_argument(
        "--workers",
        metavar="N",
        help="processes serving the same ports: a number, or 'auto' for one per CPU core "
        "(default 1: a single process; the number of cores is recommended under load); "
        "also INTAKEGUARD_WORKERS",
    )
    api = command("api", _api, "run the decision API alone")
    smtp = command(
        "smtp", _smtp, "run the SMTP receiver alone (in process, or to INTAKEGUARD_API_URL)"
    )
    milter = command(
        "milter",
        _milter,
        "run the milter alone: Postfix or Sendmail (smtpd_milters = inet:HOST:PORT) hands it "
        "each message, which it verifies, records and stamps with the verdict before the "
        "mail goes on (INTAKEGUARD_MILTER_LISTEN; rejected mail per "
        "INTAKEGUARD_MILTER_REJECTED=tag|quarantine|reject); in process, or to "
        "INTAKEGUARD_API_URL",
    )
    milter.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where the MTA connects (default: INTAKEGUARD_MILTER_LISTEN, else 127.0.0.1:8891)",
    )
    for service in (serve, api, smtp, milter):
        service.set_defaults(default_log_format="json")
        service.add_argument(
            "--log-format",
            choices=("json", "text"),
            help="log lines as JSON objects (default) or text; also INTAKEGUARD_LOG_FORMAT",
        )
    for alone in (smtp, milter):
        alone.add_argument(
            "--metrics-listen",
            metavar="HOST:PORT",
            help="serve /metrics on HOST:PORT (the API is not in this process to serve it); "
            "also INTAKEGUARD_METRICS_LISTEN",
        )
    pipe = command(
        "pipe",
        _pipe,
        "verify one message from standard input and record its verdict "
        "(exit 0 recorded, 75 retry later, 65 unusable, 77 refused credentials, 78 config)",
    )
    pipe.add_argument("--sender", required=True, help="envelope sender (MAIL FROM); '' for none")
    pipe.add_argument(
        "--recipient", required=True, action="append", help="envelope recipient (repeatable)"
    )
    pipe.add_argument("--client-ip", help="IP address of the client that handed the message over")
    pipe.add_argument("--helo", help="HELO/EHLO name the client gave")

    db = group("db", "database maintenance")
    upgrade = db.add_parser("upgrade", help="apply database migrations up to the latest")
    upgrade.set_defaults(run=commands.db_upgrade)

    token = group("token", "API tokens")
    create = token.add_parser("create", help="create a bearer token; it is printed once")
    create.add_argument("--name", required=True, help="who or what uses the token")
    create.add_argument(
        "--scope",
        required=True,
        nargs="+",
        action="extend",
        metavar="SCOPE",
        help="scopes granted: intake, verdicts:read, messages:read, review, registry:read, "
        "registry:write, codes:issue, audit, webhooks, tokens:admin, relay (a remote "
        "smtp/pipe receiver's mail from our relays)",
    )
    create.add_argument(
        "--expires-in",
        type=int,
        metavar="DAYS",
        help="refuse the token this many days from now (1-3650); default: until revoked",
    )
    create.set_defaults(run=commands.token_create)
    listing = token.add_parser(
        "list", help="the stored tokens: id, name, state, scopes, times (never the secret)"
    )
    listing.set_defaults(run=commands.token_list)
    revoke = token.add_parser(
        "revoke",
        help="revoke a token by id, or every unrevoked token of a name",
        description="Exit 0 revoked (or revoked already), 65 no such token, 75 database "
        "unavailable.",
    )
    revoke.add_argument("token", metavar="ID|NAME", help="a token's id (digits) or its name")
    revoke.set_defaults(run=commands.token_revoke)

    agents = group("agents", "the people who log in to the agents' console (/console/)")
    agents_add = agents.add_parser(
        "add",
        help="add an agent; the password is asked for, or read from stdin",
        description="Exit 0 added, 65 a bad field or a login that exists, 75 database unavailable.",
    )
    agents_add.add_argument("login", metavar="LOGIN", help="what the agent types to log in")
    agents_add.add_argument("--name", required=True, help="the agent's full name")
    agents_add.add_argument(
        "--role",
        choices=("agent", "lead"),
        default="agent",
        help="agent (default) or lead",
    )
    agents_add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking for it",
    )
    agents_add.set_defaults(run=commands.agents_add)
    agents_list = agents.add_parser("list", help="every agent: login, role, state, name")
    agents_list.set_defaults(run=commands.agents_list)
    agents_disable = agents.add_parser(
        "disable", help="disable an agent and end their console sessions at once"
    )
    agents_disable.add_argument("login", metavar="LOGIN")
    agents_disable.set_defaults(run=commands.agents_disable)

    customers = group("customers", "the customer registry")
    importing = customers.add_parser(
        "import",
        help="import customers from a CSV file (all rows or none)",
        description="Columns: login,kind,name,panel_email,pesel,nip,regon,services "
        "(services separated by ';' or spaces). Every row is validated first; any bad row "
        "is reported by line number and nothing is imported.",
    )
    importing.add_argument("file", type=Path, metavar="FILE.csv")
    importing.set_defaults(run=commands.customers_import)
    erasing = customers.add_parser(
        "erase",
        help="erase a customer's personal data; the audit chain keeps verifying",
        description="Removes the registry row (panel address, name, identifiers), the "
        "personal data of the audit entries about LOGIN and the raw messages of their "
        "verdicts; keeps verdicts, reviews, actions and every hash. Exit 0 erased, "
        "65 nothing known about LOGIN, 75 database unavailable.",
    )
    erasing.add_argument("login", metavar="LOGIN")
    erasing.add_argument("--agent", required=True, help="who carries out the erasure")
    erasing.add_argument(
        "--reason", required=True, help="why (kept in the record: name no person in it)"
    )
    erasing.set_defaults(run=commands.customers_erase)

    check = command(
        "check", commands.check, "verify a saved message and print the evidence; records nothing"
    )
    check.add_argument("file", type=Path, metavar="FILE.eml")
    check.add_argument("--client-ip", help="IP address of the client that handed the message over")
    check.add_argument("--helo", help="HELO/EHLO name the client gave")
    check.add_argument("--mail-from", help="envelope sender (MAIL FROM)")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.add_argument(
        "--relayed",
        action="store_true",
        help="the message reached us through a relay of ours (TRUSTED_RELAYS, the pipe): "
        "believe its Authentication-Results from TRUSTED_AUTHSERV_IDS",
    )

    rules = group("rules", "the policy in rules/")
    rules_check = rules.add_parser("check", help="validate a rules directory and show what it does")
    rules_check.add_argument("dir", type=Path, nargs="?", help="default: INTAKEGUARD_RULES_DIR")
    rules_check.set_defaults(run=commands.rules_check)

    audit = group("audit", "the tamper-evident record")
    audit_verify = audit.add_parser(
        "verify",
        help="walk the audit hash chain and name the first broken entry",
        description="Recompute every entry's hash in order. Exit 0 intact, 65 (EX_DATAERR) "
        "broken: the first broken entry is named on stderr; 75 database unavailable, "
        "78 bad configuration.",
    )
    audit_verify.add_argument("--json", action="store_true", help="print the report as JSON")
    audit_verify.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="signed checkpoints (from `audit checkpoint`, one or more in the file): the "
        "chain must still extend every one, or exit 65",
    )
    audit_verify.add_argument(
        "--public-key",
        action="append",
        type=_public_key,
        metavar="KEY",
        help="a public key the checkpoints may be signed with, as GET /v1/keys gives it "
        "(repeat it for the keys of before a rotation); without it, this service's own "
        "key, which needs INTAKEGUARD_SECRET_KEY",
    )
    audit_verify.set_defaults(run=commands.audit_verify)
    audit_checkpoint = audit.add_parser(
        "checkpoint",
        help="sign the chain head now and print the checkpoint",
        description="Sign the audit chain's size and head hash with the verdict-signing key, "
        "keep it, publish it (audit.checkpoint webhook event, log line) and print it on "
        "stdout: append it to a file kept outside the database for `audit verify "
        "--checkpoint`.",
    )
    audit_checkpoint.set_defaults(run=commands.audit_checkpoint)

    retention = group("retention", "how long raw messages are kept")
    retention_run = retention.add_parser(
        "run",
        help="empty raw messages older than INTAKEGUARD_RAW_RETENTION_DAYS",
        description="Verdicts and every SHA-256 stay; each batch is recorded in the audit "
        "chain. Safe to re-run. Exit 0 done, 75 database unavailable.",
    )
    retention_run.set_defaults(run=commands.retention_run)

    confirmations = group("confirmations", "the registered owners' confirmation links")
    confirmations_expire = confirmations.add_parser(
        "expire",
        help="mark confirmation links past INTAKEGUARD_CONFIRM_TTL_MINUTES expired",
        description="Their verdicts stay confirmation_required (resend or review them). "
        "serve runs this every 5 minutes. Safe to re-run. Exit 0 done, 75 database unavailable.",
    )
    confirmations_expire.set_defaults(run=commands.confirmations_expire)
    return parser


def _public_key(value: str) -> PublicKey:
    from app.signing import PublicKey

    try:
        return PublicKey(value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version() -> str:
    """The installed distribution's version (its metadata, as pip shows it)."""
    try:
        return metadata.version("intakeguard")
    except metadata.PackageNotFoundError:
        # Run from a source tree that was never installed (python -m app.cli).
        return "unknown (not installed)"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from app.server.worker_role import WorkerRole

    role = WorkerRole.from_environment()
    if role is not None:
        # A worker of a supervisor, which prepared the store and bound the listeners.
        return _run_worker(settings, role)
    if args.workers is not None:
        settings = _with_workers(settings, args.workers)
    if not settings.intake_recipients:
        log.warning(
            "SMTP receiver not started: set INTAKEGUARD_INTAKE_RECIPIENTS to the addresses "
            "or @domains it should accept mail for"
        )
    return _run(
        settings,
        http=True,
        smtp=bool(settings.intake_recipients),
        milter=settings.milter_listen is not None,
        argv=args.argv,
    )


def _with_workers(settings: Settings, value: str) -> Settings:
    from pydantic import ValidationError

    from app.settings import Settings

    try:
        checked = Settings.model_validate({**settings.model_dump(), "workers": value})
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"--workers: {message}") from None
    return settings.model_copy(update={"workers": checked.workers})


def _run_worker(settings: Settings, role: WorkerRole) -> int:
    import asyncio

    from app.server import serving

    milter = settings.milter_listen is not None
    asyncio.run(
        serving.serve(settings, http=True, smtp=role.smtp is not None, milter=milter, role=role)
    )
    return EX_OK


def _api(settings: Settings, args: argparse.Namespace) -> int:
    return _run(settings, http=True, smtp=False)


def _smtp(settings: Settings, args: argparse.Namespace) -> int:
    settings = _with_listen(settings, "metrics_listen", "--metrics-listen", args.metrics_listen)
    return _run(settings, http=False, smtp=True)


def _milter(settings: Settings, args: argparse.Namespace) -> int:
    settings = _with_listen(settings, "metrics_listen", "--metrics-listen", args.metrics_listen)
    settings = _with_listen(settings, "milter_listen", "--listen", args.listen)
    if settings.milter_listen is None:
        settings = settings.model_copy(update={"milter_listen": DEFAULT_MILTER_LISTEN})
    return _run(settings, http=False, smtp=False, milter=True)


def _with_listen(settings: Settings, name: str, option: str, value: str | None) -> Settings:
    """``settings`` with ``name`` (a host:port) set from an option, when one was given."""
    if not value:
        return settings
    from app.settings import split_listen

    try:
        split_listen(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    return settings.model_copy(update={name: value})


def _run(
    settings: Settings,
    *,
    http: bool,
    smtp: bool,
    milter: bool = False,
    argv: Sequence[str] | None = None,
) -> int:
    import asyncio

    from app.server import serving, supervisor

    if http or not settings.api_url:
        settings.require_secret_key()
        serving.wait_for_store(settings)
        # A SIGTERM now takes effect once the migrations reach the head revision.
        with serving.signals_deferred():
            commands.prepare_store(settings)
    if settings.workers > 1 and argv is not None:
        return supervisor.supervise(settings, argv, http=http, smtp=smtp)
    asyncio.run(serving.serve(settings, http=http, smtp=smtp, milter=milter))
    return EX_OK


def _pipe(settings: Settings, args: argparse.Namespace) -> int:
    """One message from stdin; sysexits tell the mail server what to do with it."""
    from app.server import pipe

    envelope = pipe.Envelope(
        client_ip=args.client_ip,
        helo=args.helo,
        mail_from=args.sender,
        rcpt=tuple(args.recipient),
        # The local MTA runs the pipe: the message reached us through our own server.
        trusted_hop=True,
    )
    return pipe.receive(settings, envelope)


if __name__ == "__main__":
    # `python -m app.cli.main`: also how app.server.supervisor starts a worker with this
    # interpreter.
    sys.exit(main())
