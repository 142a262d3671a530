"""intakeguard agents add|list|disable, run for real, on both databases."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from app.console.agents import authenticate
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.models import ConsoleAgent, ConsoleSession
from app.db.types import utcnow
from tests.app.cli.test_cli import EX_DATAERR, INTAKEGUARD, environment, one_line
from tests.app.records.test_audit import assert_new_table_migrates

PASSWORD = "correct horse battery"


@pytest.fixture
def store(empty_database: str) -> str:
    """A database of its own, migrated as `intakeguard db upgrade` would."""
    engine = make_engine(empty_database)
    upgrade(engine)
    engine.dispose()
    return empty_database


def agents(
    database: str, cwd: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INTAKEGUARD), "agents", *args],
        cwd=cwd,
        env=environment(database_url=database),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_agents_are_added_listed_and_disabled(store: str, tmp_path: Path) -> None:
    added = agents(
        store,
        tmp_path,
        "add",
        "ola.nowak",
        "--name",
        "Ola Nowak",
        "--role",
        "lead",
        "--password-stdin",
        stdin=PASSWORD + "\r\n",
    )
    assert added.returncode == 0, added.stderr
    assert one_line(added.stderr) == "agent ola.nowak (lead) added"
    second = agents(
        store,
        tmp_path,
        "add",
        "jan",
        "--name",
        "Jan Kos",
        "--password-stdin",
        stdin=PASSWORD + " 2\n",
    )
    assert second.returncode == 0, second.stderr

    listed = agents(store, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "ola.nowak\tlead\tenabled\tOla Nowak",
        "jan\tagent\tenabled\tJan Kos",
    ]

    engine = make_engine(store)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            row = session.scalar(select(ConsoleAgent).where(ConsoleAgent.login == "ola.nowak"))
            assert row is not None and row.password_hash.startswith("$argon2id$")
            assert PASSWORD not in row.password_hash
            # The line ending was stripped, nothing else.
            ola = authenticate(session, "ola.nowak", PASSWORD)
            assert ola is not None and ola.role == "lead"
            assert authenticate(session, "ola.nowak", PASSWORD + "\r") is None
            assert authenticate(session, "jan", PASSWORD + " 2") is not None
            session.add(
                ConsoleSession(
                    id_hash="0" * 64,
                    agent_id=ola.id,
                    csrf="x",
                    created_at=utcnow(),
                    last_seen_at=utcnow(),
                )
            )

        disabled = agents(store, tmp_path, "disable", "ola.nowak")
        assert disabled.returncode == 0, disabled.stderr
        listed = agents(store, tmp_path, "list")
        assert listed.stdout.splitlines()[0] == "ola.nowak\tlead\tdisabled\tOla Nowak"
        with sessions() as session:
            # Her sessions ended with it, and the right password no longer lets her in.
            assert session.scalars(select(ConsoleSession)).all() == []
            assert authenticate(session, "ola.nowak", PASSWORD) is None
    finally:
        engine.dispose()


def test_bad_agents_are_refused_with_one_line(store: str, tmp_path: Path) -> None:
    def add(*args: str, stdin: str = PASSWORD + "\n") -> subprocess.CompletedProcess[str]:
        return agents(store, tmp_path, "add", *args, "--password-stdin", stdin=stdin)

    assert add("ola", "--name", "Ola").returncode == 0
    cases = [
        (add("ola", "--name", "Other Ola"), "agent 'ola' exists"),
        (add("Ola Nowak", "--name", "Ola"), "login 'Ola Nowak'"),
        (add("piotr", "--name", "Piotr", stdin="short\n"), "at least 12 characters"),
        (add("piotr", "--name", "   "), "--name"),
        (agents(store, tmp_path, "disable", "nobody"), "no agent 'nobody'"),
    ]
    for result, mention in cases:
        assert result.returncode == EX_DATAERR, result.stderr
        assert mention in one_line(result.stderr)
    # Without a terminal and without --password-stdin: refused, not hung on a prompt.
    prompt = agents(store, tmp_path, "add", "piotr", "--name", "Piotr", stdin="")
    assert prompt.returncode == EX_DATAERR
    assert "--password-stdin" in one_line(prompt.stderr)
    assert [
        line.split("\t")[0] for line in agents(store, tmp_path, "list").stdout.splitlines()
    ] == ["ola"]


@pytest.mark.parametrize("table", ["console_agents", "console_sessions", "console_login_failures"])
def test_migration_0011_matches_the_models_and_downgrades(empty_database: str, table: str) -> None:
    assert_new_table_migrates(empty_database, table, "0010")
