"""Alembic migrations of the intakeguard store."""
