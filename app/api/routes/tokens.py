"""/v1/tokens: the stored bearer tokens, listed without their secrets, and revoked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.api.deps import ReadSessionDep, SessionDep, require
from app.api.schemas import ErrorBody, TokenList, TokenOut
from app.auth import Principal, TokenInfo, list_tokens, revoke_tokens
from app.db.types import utcnow

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])
TokensAdmin = Annotated[Principal, Depends(require("tokens:admin"))]
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _out(token: TokenInfo) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        scopes=token.scopes,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        state=token.state(utcnow()),
    )


@router.get("", response_model=TokenList)
def read_tokens(session: ReadSessionDep, _: TokensAdmin) -> TokenList:
    """Every stored token, oldest first; never its secret (only its hash is stored)."""
    return TokenList(items=[_out(token) for token in list_tokens(session)])


@router.delete(
    "/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": ErrorBody}}
)
def revoke(token_id: TokenId, session: SessionDep, _: TokensAdmin) -> Response:
    """Revoke a token: refused (401) from the next request on. Revoking it again changes
    nothing; the row stays, so the list still shows when it was revoked."""
    revoke_tokens(session, str(token_id), utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
