"""``intakeguard token create --expires-in``, ``token list`` and ``token revoke``, run for
real in a subprocess against each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from app.auth import authenticate, hash_token
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.models import Base
from tests.app.cli.test_cli import EX_DATAERR, intakeguard
from tests.app.console.test_agents_cli import store  # noqa: F401 (fixture used by name)
from tests.app.records.test_audit import alembic_config


def create(url: str, cwd: Path, name: str, *extra: str) -> str:
    result = intakeguard(
        "token", "create", "--name", name, "--scope", "verdicts:read", *extra,
        cwd=cwd, database_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def listed(url: str, cwd: Path) -> list[dict[str, str]]:
    result = intakeguard("token", "list", cwd=cwd, database_url=url)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    names = header.split("\t")
    assert names == ["id", "name", "state", "scopes", "created", "expires", "revoked"]
    return [dict(zip(names, row.split("\t"), strict=True)) for row in rows]


def still_works(url: str, token: str) -> bool:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return authenticate(session, token, admin_token=None) is not None
    finally:
        engine.dispose()


def test_list_shows_every_token_without_its_secret_then_revoke_by_id_and_by_name(
    store: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    desk = create(store, tmp_path, "desk", "--expires-in", "30")
    first_ticketing = create(store, tmp_path, "ticketing")
    second_ticketing = create(store, tmp_path, "ticketing")
    rows = listed(store, tmp_path)
    assert [(r["name"], r["state"], r["scopes"]) for r in rows] == [
        ("desk", "active", "verdicts:read"),
        ("ticketing", "active", "verdicts:read"),
        ("ticketing", "active", "verdicts:read"),
    ]
    expires = datetime.fromisoformat(rows[0]["expires"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert rows[1]["expires"] == "-" and rows[1]["revoked"] == "-"
    shown = intakeguard("token", "list", cwd=tmp_path, database_url=store).stdout
    for secret in (desk, first_ticketing, second_ticketing):
        assert secret not in shown and secret[4:20] not in shown

    by_id = intakeguard("token", "revoke", rows[0]["id"], cwd=tmp_path, database_url=store)
    assert by_id.returncode == 0, by_id.stderr
    assert f"token {rows[0]['id']} (desk) revoked" in by_id.stderr
    assert not still_works(store, desk)
    assert still_works(store, first_ticketing)

    by_name = intakeguard("token", "revoke", "ticketing", cwd=tmp_path, database_url=store)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stderr.count("(ticketing) revoked") == 2
    assert not still_works(store, first_ticketing)
    assert not still_works(store, second_ticketing)
    assert [r["state"] for r in listed(store, tmp_path)] == ["revoked"] * 3
    assert all(r["revoked"] != "-" for r in listed(store, tmp_path))


def test_revoking_nothing_or_a_bad_expiry_exits_65(
    store: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    create(store, tmp_path, "desk")
    for named in ("nobody", "99999999999999999999999"):
        result = intakeguard("token", "revoke", named, cwd=tmp_path, database_url=store)
        assert result.returncode == EX_DATAERR, result.stderr
        assert "no token with id or name" in result.stderr
    for days in ("0", "3651"):
        result = intakeguard(
            "token", "create", "--name", "x", "--scope", "intake", "--expires-in", days,
            cwd=tmp_path, database_url=store,
        )  # fmt: skip
        assert result.returncode == EX_DATAERR, result.stderr
        assert "--expires-in: from 1 to 3650 days" in result.stderr
        assert result.stdout == ""
    assert len(listed(store, tmp_path)) == 1


def test_migration_0013_keeps_existing_tokens_working_and_downgrades(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0012")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_tokens (name, token_hash, scopes, created_at) "
                    "VALUES ('old', :hash, '[\"intake\"]', CURRENT_TIMESTAMP)"
                ),
                {"hash": hash_token("igt_old")},
            )
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_object": lambda _, name, kind, *__: (
                        kind != "table" or name == "api_tokens"
                    ),
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
        with session_factory(engine)() as session:
            assert authenticate(session, "igt_old", admin_token=None) is not None
        command.downgrade(alembic_config(engine), "0012")
        assert "expires_at" not in {c["name"] for c in inspect(engine).get_columns("api_tokens")}
        upgrade(engine)
    finally:
        engine.dispose()
