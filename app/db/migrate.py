"""Apply Alembic migrations programmatically (``intakeguard db upgrade`` and start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.db.engine import make_engine, store_errors
from app.errors import ConfigError

if TYPE_CHECKING:
    from app.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; each migration runs in its own transaction."""
    with store_errors():
        command.upgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with store_errors(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


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
