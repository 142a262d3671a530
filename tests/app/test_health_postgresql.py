"""Readiness on PostgreSQL when the store cannot take a write: read-only by ALTER DATABASE
or ROLE, or a full disk (a tablespace on a small tmpfs), in throwaway databases."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.api import build_service, create_app
from app.db import engine as db_engine
from app.db.engine import make_engine
from app.db.migrate import upgrade
from tests.app.api.common import RFC822
from tests.app.test_health import fill
from tests.conftest import ON_CI
from tests.support import ADMIN_TOKEN, TLS, LiveServer, make_message, make_settings

READ_ONLY_FOR_NEW_SESSIONS = (
    "the database takes no writes from new sessions "
    "(default_transaction_read_only set on the database or role)"
)


@pytest.fixture
def server(postgresql_url: str) -> Iterator[Engine]:
    """The PostgreSQL server of the test run, for CREATE/ALTER/DROP DATABASE."""
    engine = create_engine(make_url(postgresql_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@contextmanager
def throwaway_database(server: Engine, tablespace: str | None = None) -> Iterator[str]:
    """A migrated database of its own, dropped afterwards; its URL."""
    name = f"intakeguard_ready_{uuid.uuid4().hex[:12]}"
    placed = f' TABLESPACE "{tablespace}"' if tablespace else ""
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{placed}'))
    url = server.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _alter(server: Engine, statement: str) -> None:
    with server.connect() as connection:
        connection.execute(text(statement))


@pytest.mark.parametrize(
    ("settings", "ready"),
    [
        pytest.param(
            ["ALTER DATABASE {db} SET default_transaction_read_only = on"],
            False,
            id="the database read-only",
        ),
        pytest.param(
            ["ALTER ROLE {role} IN DATABASE {db} SET default_transaction_read_only = true"],
            False,
            id="the role read-only in this database",
        ),
        pytest.param(
            [
                "ALTER DATABASE {db} SET default_transaction_read_only = on",
                "ALTER ROLE {role} IN DATABASE {db} SET default_transaction_read_only = off",
            ],
            True,
            id="the database read-only but not for this role, which wins",
        ),
        pytest.param(
            ["ALTER DATABASE {db} SET statement_timeout = '5min'"],
            True,
            id="another setting of the database",
        ),
    ],
)
def test_a_database_or_role_set_read_only_is_not_ready(
    server: Engine, settings: list[str], ready: bool
) -> None:
    with throwaway_database(server) as url:
        parsed = make_url(url)
        names = {"db": f'"{parsed.database}"', "role": f'"{parsed.username}"'}
        with (
            LiveServer(create_app(make_settings(url))) as api,
            httpx.Client(verify=TLS, base_url=api.url) as client,
        ):
            # The app's pooled sessions start before the change and do not show it.
            assert client.get("/readyz").status_code == 200
            for statement in settings:
                _alter(server, statement.format(**names))
            changed = client.get("/readyz")
            _alter(server, f"ALTER DATABASE {names['db']} RESET ALL")
            _alter(server, f"ALTER ROLE {names['role']} IN DATABASE {names['db']} RESET ALL")
            reset = client.get("/readyz")
    if ready:
        assert changed.status_code == 200, changed.text
    else:
        assert changed.status_code == 503, changed.text
        assert changed.json()["detail"] == READ_ONLY_FOR_NEW_SESSIONS
        assert changed.headers["Retry-After"]
    assert reset.status_code == 200, reset.text


@pytest.fixture
def small_tablespace(server: Engine) -> Iterator[tuple[str, Path]]:
    """A tablespace on a 32 MiB tmpfs of its own (its name and mount point): a disk the
    PostgreSQL server really fills. Needs root and the server on this machine."""
    reason = "a tablespace on a tmpfs needs root and the PostgreSQL server on this host"
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        owner = None
    if os.geteuid() != 0 or owner is None or shutil.which("mount") is None:
        if ON_CI:
            pytest.fail(f"{reason}, and with CI=true it must")
        pytest.skip(reason)
    # Outside the test's own directory, which the server's user cannot enter.
    mountpoint = Path(tempfile.mkdtemp(prefix="intakeguard-tablespace-"))
    mountpoint.chmod(0o711)
    options = f"size=32m,mode=0700,uid={owner.pw_uid},gid={owner.pw_gid}"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        mountpoint.rmdir()
        if ON_CI:
            pytest.fail(f"{reason}: {mounted.stderr.strip()}")
        pytest.skip(f"{reason}: {mounted.stderr.strip()}")
    name = f"intakeguard_small_{uuid.uuid4().hex[:12]}"
    try:
        _alter(server, f"CREATE TABLESPACE \"{name}\" LOCATION '{mountpoint}'")
        try:
            yield name, mountpoint
        finally:
            _alter(server, f'DROP TABLESPACE IF EXISTS "{name}"')
    except Exception as exc:
        if "CREATE TABLESPACE" in str(exc) and not ON_CI:
            pytest.skip(f"{reason}: {exc}")
        raise
    finally:
        subprocess.run(["umount", "--lazy", str(mountpoint)], check=False)
        mountpoint.rmdir()


def test_a_full_postgresql_disk_is_not_ready_once_a_write_was_refused(
    server: Engine, small_tablespace: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tablespace, mountpoint = small_tablespace
    with throwaway_database(server, tablespace) as url:
        settings = make_settings(url)
        service = build_service(settings)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **RFC822}
        try:
            with (
                LiveServer(create_app(settings, service)) as api,
                httpx.Client(verify=TLS, base_url=api.url, headers=headers, timeout=30) as client,
            ):
                assert client.get("/readyz").status_code == 200
                assert client.post("/v1/messages", content=make_message()).status_code == 201
                filler = fill(mountpoint)
                # Nothing shows a full disk before a write meets it: still ready.
                before = client.get("/readyz")
                refused = [
                    client.post("/v1/messages", content=make_message(body=f"{n} " * 5000))
                    for n in range(20)
                ]
                after = client.get("/readyz")
                alive = client.get("/healthz")
                filler.unlink()
                # Remembered for a while: the probe writes nothing to find out.
                remembered = client.get("/readyz")
                monkeypatch.setattr(db_engine, "REFUSED_WRITE_REMEMBERED_SECONDS", 0.0)
                forgotten = client.get("/readyz")
                accepted = client.post("/v1/messages", content=make_message())
        finally:
            service.sessions.kw["bind"].dispose()
    assert before.status_code == 200, before.text
    assert 503 in {response.status_code for response in refused}, [r.text for r in refused]
    assert {response.status_code for response in refused} <= {201, 503}
    assert after.status_code == 503, after.text
    assert after.json()["detail"].startswith("the database refused a write")
    assert "SQLSTATE 53100, DiskFull" in after.json()["detail"]
    assert str(mountpoint) not in after.text
    assert alive.status_code == 200
    assert remembered.status_code == 503, remembered.text
    assert forgotten.status_code == 200, forgotten.text
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize(
    ("statements", "noted"),
    [
        pytest.param(
            ["SET TRANSACTION READ ONLY", "INSERT INTO registry_version VALUES (2, 0)"],
            "SQLSTATE 25006, ReadOnlySqlTransaction",
            id="a write in a read-only transaction",
        ),
        pytest.param(
            [
                "SET LOCAL temp_file_limit = '64kB'",
                "SELECT count(*) FROM generate_series(1, 1e6) g ORDER BY 1",
            ],
            None,
            id="a limit met by a read is not a refused write",
        ),
        pytest.param(
            ["INSERT INTO registry_version VALUES (1, 0)"],
            None,
            id="a duplicate key is the writer's error, not the store's",
        ),
    ],
)
def test_which_errors_are_remembered_as_a_refused_write(
    server: Engine, statements: list[str], noted: str | None
) -> None:
    with throwaway_database(server) as url:
        engine = make_engine(url)
        try:
            with pytest.raises(DBAPIError), engine.begin() as connection:
                for statement in statements:
                    connection.execute(text(statement))
            found = db_engine.refused_write(engine)
        finally:
            engine.dispose()
    if noted is None:
        assert found is None
    else:
        assert found is not None and found.endswith(f"({noted})"), found
