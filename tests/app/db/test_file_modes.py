"""The SQLite store and the directories made for it are this service's alone (0600/0700),
whatever the umask it was started under."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.db.engine import make_engine
from tests.app.cli.test_cli import environment

INTAKEGUARD = Path(sys.executable).parent / "intakeguard"

# A process of its own (the umask is the process's), holding the store open while the
# write-ahead log, its index and the writer-turn file exist, and reporting their modes.
HOLD_OPEN = """
import json, os, sys
from pathlib import Path
from sqlalchemy import text
from app.db.engine import make_engine, writer_turn
from app.db.migrate import upgrade
database = Path(sys.argv[1])
engine = make_engine(f"sqlite:///{database}")
upgrade(engine)
with writer_turn(engine), engine.begin() as connection:
    connection.execute(text("DELETE FROM verdicts"))
with engine.connect() as connection:
    connection.execute(text("SELECT count(*) FROM verdicts"))
    files = [database, *(Path(f"{database}{end}") for end in ("-wal", "-shm", "-turn"))]
    print(json.dumps({f.name: os.stat(f).st_mode & 0o777 for f in files}))
"""


def under_umask_022(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` run as a shell with the common default umask would start it."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_under_umask_022_makes_var_0700_and_the_database_0600(
    tmp_path: Path,
) -> None:
    # The default DATABASE_URL: var/intakeguard.db under the working directory.
    result = under_umask_022([str(INTAKEGUARD), "db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert oct(mode(tmp_path / "var")) == oct(0o700)
    assert oct(mode(tmp_path / "var" / "intakeguard.db")) == oct(0o600)


def test_every_file_of_an_open_store_is_0600_and_each_new_directory_0700(
    tmp_path: Path,
) -> None:
    database = tmp_path / "deep" / "er" / "store.db"
    result = under_umask_022([sys.executable, "-P", "-c", HOLD_OPEN, str(database)], tmp_path)
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout)
    assert {name: oct(value) for name, value in modes.items()} == {
        "store.db": oct(0o600),
        "store.db-wal": oct(0o600),
        "store.db-shm": oct(0o600),
        "store.db-turn": oct(0o600),
    }
    assert oct(mode(tmp_path / "deep")) == oct(0o700)
    assert oct(mode(tmp_path / "deep" / "er")) == oct(0o700)


def test_what_the_operator_made_is_left_as_it_is_and_a_readable_file_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    database = shared / "store.db"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert (oct(mode(shared)), oct(mode(database))) == (oct(0o755), oct(0o644))
    assert "can be read or written by other users (mode 644): chmod 600 it" in caplog.text
