"""The one-shot commands of ``intakeguard``: store, tokens, registry, audit, retention, checks.

``app.cli.main`` parses the command line and calls these; the long-running services (serve,
api, smtp, pipe) stay there. Heavy imports happen inside each command, so ``--help``
and usage errors load none of them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from app.sysexits import EX_DATAERR, EX_OK

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.decision.rules import Rules
    from app.settings import Settings
    from app.signing import PublicKey
    from app.verdict_types import Explanation


def prepare_store(settings: Settings) -> None:
    """app.db.migrate.prepare_store (imported here: alembic is heavy, see above)."""
    from app.db.migrate import prepare_store as migrate_or_refuse

    migrate_or_refuse(settings)


def _write_transaction(settings: Settings) -> AbstractContextManager[Session]:
    """app.db.engine.write_transaction on the configured store: a `serve` writing to the
    same SQLite file hands over its writer turn to the command and back."""
    from app.db.engine import make_engine, session_factory, write_transaction

    return write_transaction(session_factory(make_engine(settings.database_url)))


@contextmanager
def _read_only_session(settings: Settings) -> Iterator[Session]:
    """A session that only reads: on SQLite it does not hold the write lock (a `serve`
    writing to the same file goes on while the command reads, even a long audit verify)."""
    from app.db.engine import make_engine, read_only_sessions, session_factory, store_errors

    sessions = read_only_sessions(session_factory(make_engine(settings.database_url)))
    with store_errors(), sessions() as session:
        yield session


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.engine import make_engine
    from app.db.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return EX_OK


def token_create(settings: Settings, args: argparse.Namespace) -> int:
    from app.auth import create_token

    prepare_store(settings)
    with _write_transaction(settings) as session:
        token = create_token(session, args.name, args.scope, args.expires_in)
    print(token)
    until = f", expiring in {args.expires_in} day(s)" if args.expires_in else ""
    print(
        f"token for {args.name!r} with scopes {' '.join(sorted(set(args.scope)))}{until};"
        " store it now, it is not shown again",
        file=sys.stderr,
    )
    return EX_OK


def token_list(settings: Settings, args: argparse.Namespace) -> int:
    from app.auth import list_tokens
    from app.db.types import iso_z, utcnow

    prepare_store(settings)
    with _read_only_session(settings) as session:
        tokens = list_tokens(session)
    now = utcnow()
    print("id\tname\tstate\tscopes\tcreated\texpires\trevoked")
    for token in tokens:
        created, expires, revoked = (
            iso_z(moment) if moment else "-"
            for moment in (token.created_at, token.expires_at, token.revoked_at)
        )
        print(
            f"{token.id}\t{token.name}\t{token.state(now)}\t{' '.join(token.scopes)}"
            f"\t{created}\t{expires}\t{revoked}"
        )
    return EX_OK


def token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from app.auth import revoke_tokens
    from app.db.types import utcnow

    prepare_store(settings)
    with _write_transaction(settings) as session:
        revoked = revoke_tokens(session, args.token, utcnow())
    for token in revoked:
        print(f"token {token.id} ({token.name}) revoked", file=sys.stderr)
    return EX_OK


def agents_add(settings: Settings, args: argparse.Namespace) -> int:
    from app.console.agents import add_agent
    from app.db.types import utcnow

    password = _new_password(args.password_stdin)
    prepare_store(settings)
    with _write_transaction(settings) as session:
        agent = add_agent(session, args.login, args.name, args.role, password, utcnow())
    print(f"agent {agent.login} ({agent.role}) added", file=sys.stderr)
    return EX_OK


def _new_password(from_stdin: bool) -> str:
    from app.errors import InvalidInput

    if from_stdin:
        # One line, without its line ending (a password may hold other spaces).
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password on: use --password-stdin")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise InvalidInput("the two passwords differ")
    return password


def agents_list(settings: Settings, args: argparse.Namespace) -> int:
    from app.console.agents import list_agents

    prepare_store(settings)
    with _read_only_session(settings) as session:
        for agent in list_agents(session):
            state = "disabled" if agent.disabled else "enabled"
            print(f"{agent.login}\t{agent.role}\t{state}\t{agent.name}")
    return EX_OK


def agents_disable(settings: Settings, args: argparse.Namespace) -> int:
    from app.console.agents import disable_agent
    from app.db.types import utcnow

    prepare_store(settings)
    with _write_transaction(settings) as session:
        agent = disable_agent(session, args.login, utcnow())
    print(f"agent {agent.login} disabled; their console sessions ended", file=sys.stderr)
    return EX_OK


def customers_import(settings: Settings, args: argparse.Namespace) -> int:
    key = settings.require_secret_key()
    from app.registry.importer import import_customers, read_customers

    # The file is validated before the store is touched: a bad row is worth knowing
    # about even while the database is down.
    customers, errors = read_customers(args.file, _progress)
    if not errors:
        prepare_store(settings)
        with _write_transaction(settings) as session:
            report = import_customers(session, customers, key, _progress)
            errors = report.errors
            if errors:
                session.rollback()
    if errors:
        for error in errors:
            print(f"{args.file}: {error}", file=sys.stderr)
        print(f"{args.file}: {len(errors)} problem(s); nothing was imported", file=sys.stderr)
        return EX_DATAERR
    print(f"imported {len(customers)} customers ({report.created} new, {report.updated} updated)")
    return EX_OK


def customers_erase(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.engine import checkpoint_sqlite, make_engine, session_factory, write_transaction
    from app.errors import NotFound
    from app.records.erasure import erase_customer

    prepare_store(settings)
    engine = make_engine(settings.database_url)
    try:
        with write_transaction(session_factory(engine)) as session:
            report = erase_customer(session, args.login, args.agent, args.reason)
    except NotFound as exc:
        print(f"intakeguard: {exc}", file=sys.stderr)
        return EX_DATAERR
    checkpoint_sqlite(engine)
    print(
        f"erased customer {report.login}: {report.personal_records} personal record(s), "
        f"{report.raw_messages} raw message(s); {report.verdicts} verdict(s) kept; "
        f"audit entry {report.entry_seq}"
    )
    return EX_OK


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from app.audit.checkpoints import CheckpointError, parse
    from app.records.audit_verify import verify_against

    checkpoints = []
    if args.checkpoint is not None:
        try:
            keys = _checkpoint_keys(settings, args.public_key)
            text = args.checkpoint.read_text(encoding="utf-8")
            checkpoints = parse(text, keys)
        except (OSError, UnicodeError, CheckpointError) as exc:
            print(f"intakeguard: --checkpoint {args.checkpoint}: {exc}", file=sys.stderr)
            return EX_DATAERR
    prepare_store(settings)
    with _read_only_session(settings) as session:
        report = verify_against(session, checkpoints)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    if not report.intact:
        print(
            f"intakeguard: audit chain broken{_at_entry(report.broken_seq)}: {report.problem}",
            file=sys.stderr,
        )
        return EX_DATAERR
    if not args.json:
        print(f"audit chain intact: {report.entries} entries, head {report.head_hash}")
    return EX_OK


def _checkpoint_keys(settings: Settings, public_keys: list[PublicKey] | None) -> list[PublicKey]:
    """The keys a checkpoint may be signed by: those given with --public-key (no secret
    needed), else this service's own, derived from its secret key."""
    from app.errors import ConfigError
    from app.settings import ENV_PREFIX
    from app.signing import VerdictSigner

    if public_keys:
        return public_keys
    if settings.secret_key is None:
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY: missing; set it, or give the public key(s) the "
            "checkpoints were signed with: --public-key KEY (GET /v1/keys lists them)"
        )
    return [VerdictSigner(settings.require_secret_key())]


def audit_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.engine import checkpoint_sqlite, make_engine, session_factory, write_transaction
    from app.records.checkpoints import write_checkpoint
    from app.signing import VerdictSigner

    signer = VerdictSigner(settings.require_secret_key())
    prepare_store(settings)
    engine = make_engine(settings.database_url)
    with write_transaction(session_factory(engine)) as session:
        checkpoint = write_checkpoint(session, signer)
    checkpoint_sqlite(engine)
    print(checkpoint.text(), end="")
    return EX_OK


def _at_entry(seq: int | None) -> str:
    # None: the break is a stored row that no entry records.
    return "" if seq is None else f" at entry {seq}"


def retention_run(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, session_factory
    from app.records.retention import run_retention

    prepare_store(settings)
    sessions = session_factory(make_engine(settings.database_url))
    count = run_retention(sessions, settings.raw_retention_days)
    print(f"emptied {count} raw message(s) older than {settings.raw_retention_days} days")
    return EX_OK


def confirmations_expire(settings: Settings, args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, session_factory
    from app.records.confirmations import expire_links

    prepare_store(settings)
    sessions = session_factory(make_engine(settings.database_url))
    count = expire_links(sessions)
    print(f"marked {count} confirmation link(s) expired")
    return EX_OK


def _progress(stage: str, done: int, total: int) -> None:
    """Progress of a long import on stderr: in place on a terminal, every 10,000 rows in logs."""
    if total < 1000:
        return
    interactive = sys.stderr.isatty()
    if interactive or done % 10000 == 0 or done == total:
        end = "\r" if interactive and done < total else "\n"
        percent = done * 100 // total
        print(f"{stage} {done}/{total} rows ({percent}%)", end=end, file=sys.stderr, flush=True)


def check(settings: Settings, args: argparse.Namespace) -> int:
    from mailhook.errors import UnusableMessage
    from mailhook.message import Channel, Envelope, parse_message

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"intakeguard: {args.file}: cannot be read ({exc.strerror})", file=sys.stderr)
        return EX_DATAERR
    try:
        message = parse_message(
            raw,
            Envelope(
                client_ip=args.client_ip,
                helo=args.helo,
                mail_from=args.mail_from,
                trusted_hop=args.relayed,
            ),
            Channel.PIPE,
        )
    except UnusableMessage as exc:
        print(f"intakeguard: {args.file}: {exc}", file=sys.stderr)
        return EX_DATAERR
    from app.decision.rules import load_rules
    from app.decision.service import DecisionService

    load_rules(settings.rules_dir)  # a bad rules directory is reported before the store
    prepare_store(settings)
    # Nothing is recorded, so without a secret key a throw-away signing key will do.
    signing_key = settings.require_secret_key() if settings.secret_key else os.urandom(32)
    service = DecisionService.from_settings(settings, signing_key)
    verdict = service.explain(message)
    if args.json:
        print(json.dumps(verdict, indent=2, ensure_ascii=False))
    else:
        print(_table(verdict))
    return EX_OK


def _table(verdict: Explanation) -> str:
    """The verdict as an agent reads it: summary, one row per check, reasons wrapped."""
    import shutil
    import textwrap

    checks = verdict["checks"]
    name_width = max([len(c["name"]) for c in checks] + [len("check")])
    result_width = max([len(c["result"]) for c in checks] + [len("result")])
    indent = " " * (name_width + result_width + 4)
    columns = max(shutil.get_terminal_size((100, 24)).columns, 80)
    lines = [
        f"decision   {verdict['decision'] or 'none yet: a temporary failure, to be retried'}",
        f"assurance  {verdict['assurance']}",
        f"customer   {verdict['customer'] or '-'}",
        f"asks for   {', '.join(verdict['instruction']['kinds']) or '-'}",
        f"services   {', '.join(verdict['instruction']['services']) or '-'}",
        "",
        f"{'check':<{name_width}}  {'result':<{result_width}}  reason",
    ]
    for check in checks:
        first = f"{check['name']:<{name_width}}  {check['result']:<{result_width}}  "
        lines.append(
            textwrap.fill(check["reason"], columns, initial_indent=first, subsequent_indent=indent)
        )
    lines += ["", "why:"]
    lines += [
        textwrap.fill(reason, columns, initial_indent="  - ", subsequent_indent="    ")
        for reason in verdict["reasons"]
    ]
    return "\n".join(lines)


def rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from app.decision.rules import load_rules
    from app.decision.rules_policy import declared_checks

    directory = args.dir or settings.rules_dir
    source = "named on the command line" if args.dir else settings.rules_source()
    rules = load_rules(directory)
    print(f"rules {directory} are valid, version {rules.version}; {source}")
    if not args.dir and (unread := settings.unread_local_rules()):
        print(f"intakeguard: warning: {unread}", file=sys.stderr)
    for kind in rules.catalogue.kinds:
        needs = "signed documents by post" if kind.postal_only else kind.requires
        polish = f" / {kind.title_pl}" if kind.title_pl else ""
        print(
            f"  {kind.name:<18} needs {needs:<24} ({len(kind.phrases)} phrases) "
            f"{kind.title}{polish}"
        )
    print(f"  unrecognised request -> {rules.policy.unrecognised_requires}")
    confirmation = rules.policy.confirmation
    if confirmation.enabled:
        settled = ", ".join(sorted(confirmation.findings)) or "none"
        print(
            "  confirmation by the owner: for requirements "
            + ", ".join(confirmation.levels)
            + " from senders at "
            + ", ".join(confirmation.from_levels)
            + f"; review findings it settles: {settled}; holder change: "
            + confirmation.holder_change
            + " (needs PUBLIC_URL and ALERT_SMTP_RELAY)"
        )
    else:
        print("  confirmation by the owner: off")
    # Every result every check can give, and what it leads to: so an operator sees what
    # each policy key can be, and what a result the policy leaves out means.
    for check in sorted(declared_checks().values(), key=lambda check: check.name):
        print(f"  check {check.name}: {check.description}")
        for result in check.results:
            key = f"{check.name}.{result}"
            settles = " (a confirmation may settle it)" if key in confirmation.findings else ""
            print(f"    finding {key:<34} -> {_consequence(rules, check.name, result)}{settles}")
    return EX_OK


def _consequence(rules: Rules, name: str, result: str) -> str:
    """What ``name.result`` leads to, and why when the policy file does not say it."""
    from app.decision.policy import at_least_review
    from mailhook.checks import registered

    if result == "temperror" and name in registered():
        # The decision service turns any pipeline temperror into a temporary failure.
        return "retry (a temporary failure: checked again when the sender resends)"
    action = rules.policy.action_for(name, result)
    if f"{name}.{result}" in rules.policy.findings:
        return action
    floor = at_least_review(name, result)
    if floor:
        return f"{action} (not listed; never weaker than review, as {floor})"
    return f"{action} (not listed)"
