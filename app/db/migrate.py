"""Apply Alembic migrations programmatically (``intakeguard db upgrade`` and start-up).

Alembic is imported only to migrate: a store already at the head revision is told from
its ``alembic_version`` row and the newest file under migrations/versions, so a start,
each ``intakeguard pipe`` run and /readyz do not pay for loading Alembic and its scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from app.db.engine import make_engine, store_errors
from app.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

    from app.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
# Each migration's revision is the four digits its file's name starts with
# (tests/app/db holds Alembic's own head to it).
_REVISION_FILES = "[0-9][0-9][0-9][0-9]_*.py"


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; each migration runs in its own transaction."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    from alembic import command

    with store_errors():
        command.upgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (its ``alembic_version`` row); None if unmigrated."""
    with store_errors(), engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest migration's revision."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob(_REVISION_FILES))


def prepare_store(settings: Settings) -> None:
    """Migrate the embedded SQLite file; refuse to start on an outdated PostgreSQL."""
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    elif current_revision(engine) != head_revision():
        raise ConfigError(
            "INTAKEGUARD_DATABASE_URL: the database schema is not current; run "
            "`intakeguard db upgrade` once before starting the service"
        )
    engine.dispose()
