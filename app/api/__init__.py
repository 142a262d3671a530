"""The FastAPI application: wiring of settings, store, rules and routes."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import problems
from app.api.routes import customers, messages, system, verdicts
from app.db.engine import make_engine, session_factory
from app.intake import DecisionService
from app.rules import load_rules
from app.settings import Settings
from app.signing import VerdictSigner


def build_service(settings: Settings) -> DecisionService:
    """The decision service for ``settings``: engine, rules and signing key."""
    rules = load_rules(settings.rules_dir)
    signer = VerdictSigner(settings.require_secret_key())
    return DecisionService(session_factory(make_engine(settings.database_url)), rules, signer)


def create_app(settings: Settings, service: DecisionService | None = None) -> FastAPI:
    """The REST API; ``service`` is built from ``settings`` unless given."""
    app = FastAPI(
        title="intakeguard",
        summary="Verifies emailed instructions before a support desk acts on them.",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.service = service or build_service(settings)
    problems.install(app)
    for module in (messages, verdicts, customers, system):
        app.include_router(module.router)
    return app
