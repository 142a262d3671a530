"""The store's revision without Alembic: the newest migration file, the alembic_version row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from app.db.engine import make_engine
from app.db.migrate import MIGRATIONS, current_revision, head_revision, upgrade

REPO = Path(__file__).resolve().parents[3]


def test_the_head_is_alembics_and_each_revision_is_its_files_prefix() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS))
    assert head_revision() == scripts.get_current_head()
    for script in scripts.walk_revisions():
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path


def test_the_revision_of_an_empty_store_and_of_a_migrated_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    assert current_revision(engine) is None
    upgrade(engine, "0013")
    assert current_revision(engine) == "0013"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_store_at_the_head_starts_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    program = (
        "import sys\n"
        "from app.db.migrate import prepare_store\n"
        "from app.settings import Settings\n"
        f"prepare_store(Settings(database_url={url!r}))\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "[]", ran.stderr
