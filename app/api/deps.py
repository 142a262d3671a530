"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.api.problems import Forbidden, Unauthorized
from app.api.reads import LoopReads
from app.auth import Principal, admin_principal, token_principal
from app.db.engine import store_errors
from app.decision.service import DecisionService
from app.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_service(request: Request) -> DecisionService:
    service: DecisionService = request.app.state.service
    return service


def get_session(request: Request) -> Iterator[Session]:
    """A session whose transaction commits when the route returns without error.

    The transaction begins at the route's first statement, in the worker thread that
    runs the route, and there takes the store's writer turn (turn_sessions); begun here,
    a request waiting for the turn would hold a worker thread while the holder may need
    one to reach its commit.
    """
    service: DecisionService = request.app.state.service
    with store_errors(), service.writes() as session:
        yield session
        if session.in_transaction():
            session.commit()


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for routes that only read; on SQLite it does not queue behind writers."""
    service: DecisionService = request.app.state.service
    with store_errors(), service.reads() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[DecisionService, Depends(get_service)]
# "function" scope: the transaction commits before the response is sent, so nothing is
# acknowledged that is not durably stored (the default would commit after sending it).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


async def get_loop_reads(request: Request) -> LoopReads:
    # async: FastAPI runs a sync dependency in a worker thread, however little it does.
    reads: LoopReads = request.app.state.loop_reads
    return reads


# Short reads for async routes, without a worker thread where that is safe (app.api.reads).
ReadsDep = Annotated[LoopReads, Depends(get_loop_reads)]


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # async, as is check() below: a sync dependency would cost a worker thread hand-off
    # on every request; the token lookup is a short read (app.api.reads).
    if credentials is None:
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    settings: Settings = request.app.state.settings
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    token = credentials.credentials
    principal = admin_principal(token, admin)
    if principal is None:
        reads: LoopReads = request.app.state.loop_reads
        principal = await reads.run(partial(token_principal, token=token))
    if principal is None:
        raise Unauthorized("the bearer token is unknown or revoked, or has expired")
    return principal


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency granting access to holders of ``scope`` only."""

    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if scope not in principal.scopes:
            raise Forbidden(f"this token lacks the scope {scope!r}")
        return principal

    return check
