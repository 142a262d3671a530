"""The FastAPI application: wiring of settings, store, rules and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app.api import openapi, problems
from app.api.reads import LoopReads
from app.api.routes import audit as audit_routes
from app.api.routes import (
    codes,
    confirm,
    confirmations,
    customers,
    docs,
    documents,
    messages,
    system,
    tokens,
    verdicts,
    verifications,
)
from app.api.routes import reviews as review_routes
from app.api.routes import webhooks as webhook_routes
from app.console import callers as console_callers
from app.console import desk as console_desk
from app.console import pages as console_pages
from app.console import sso as console_sso
from app.console import web as console_web
from app.decision.service import DecisionService
from app.logs import RequestIdMiddleware
from app.metrics import bind_store
from app.settings import Settings


def build_service(settings: Settings) -> DecisionService:
    """The decision service for ``settings``: engine, rules, resolver and signing key."""
    return DecisionService.from_settings(settings, settings.require_secret_key())


def create_app(settings: Settings, service: DecisionService | None = None) -> FastAPI:
    """The REST API; ``service`` is built from ``settings`` unless given."""
    app = FastAPI(
        title="intakeguard",
        summary="Verifies emailed instructions before a support desk acts on them.",
        version="0.1.0",
        lifespan=_lifespan,
        # /docs is app.api.routes.docs, from local files; ReDoc would load its script from
        # a CDN, so it is off.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        generate_unique_id_function=openapi.operation_id,
        dependencies=[Depends(openapi.reject_unknown_query)],
    )
    app.state.settings = settings
    app.state.service = service or build_service(settings)
    app.state.loop_reads = LoopReads(app.state.service)
    # /metrics reads the audit chain length and outbox backlog from this store.
    bind_store(app.state.service.sessions.kw["bind"])
    app.add_middleware(RequestIdMiddleware)
    problems.install(app)
    openapi.install(app)
    for module in (messages, verdicts, documents, customers, codes, verifications, tokens, system):
        app.include_router(module.router)
    app.include_router(webhook_routes.router)
    app.include_router(review_routes.router)
    app.include_router(confirmations.router)
    app.include_router(audit_routes.router)
    app.include_router(docs.router)
    for console in (console_pages, console_desk, console_callers):
        app.include_router(console.router)
    app.add_exception_handler(console_sso.NotAnAgent, console_web.not_an_agent)
    if settings.confirm_listen is None:
        # Else the page has a listener of its own (create_confirm_app), without the API.
        app.include_router(confirm.router)
    return app


def create_confirm_app(settings: Settings, service: DecisionService) -> FastAPI:
    """Only the owner's confirmation page, for CONFIRM_LISTEN: the part that may face
    the internet while the API stays on a private address."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.service = service
    app.add_middleware(RequestIdMiddleware)
    problems.install(app)
    app.include_router(confirm.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.loop_reads.close()
