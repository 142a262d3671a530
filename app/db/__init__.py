"""The store: engine, table models and Alembic migrations."""
