"""/v1/verdicts: reading recorded verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime
from pydantic_core import to_json

from app.api.deps import ReadsDep, ReadSessionDep, require
from app.api.schemas import (
    ErrorBody,
    HeaderOut,
    MessageOut,
    PartOut,
    TextOut,
    VerdictOut,
    VerdictPage,
)
from app.auth import Principal
from app.records.message_view import stored_message
from app.records.verdicts import (
    MAX_PAGE,
    VerdictFilter,
    find_verdict,
    get_verdict,
    list_verdicts,
)
from app.registry.customers import LOGIN, parse_service
from app.verdict_types import Decision

router = APIRouter(prefix="/v1/verdicts", tags=["verdicts"])

# The database refuses NUL even in a comparison; no stored Message-ID holds one.
NO_NUL = r"^[^\x00]*$"


@router.get("/{verdict_id}", response_model=VerdictOut, responses={404: {"model": ErrorBody}})
async def read_verdict(
    verdict_id: str,
    reads: ReadsDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
) -> Response:
    return stored_json(await reads.run(partial(get_verdict, verdict_id=verdict_id)))


@router.get(
    "/{verdict_id}/message", response_model=MessageOut, responses={404: {"model": ErrorBody}}
)
def read_message(
    verdict_id: str,
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("messages:read"))],
) -> MessageOut:
    """The message a verdict is about, as the decision read it: the headers the checks
    read and the text of every part; only what is recorded once it was emptied."""
    row = find_verdict(session, verdict_id)
    view = stored_message(session, row.message_sha256)
    return MessageOut(
        verdict_id=row.id,
        message_id=row.message_id,
        message_sha256=row.message_sha256,
        envelope=row.envelope,
        raw_kept=view.raw_kept,
        emptied_at=view.emptied_at,
        problem=view.problem,
        headers=[HeaderOut(name=name, value=value) for name, value in view.headers],
        parts=[
            PartOut(
                label=part.label,
                content_type=part.content_type,
                filename=part.filename,
                attached=part.attached,
                read=part.text is not None,
                problem=part.problem,
                hidden_text=part.hidden,
                links=list(part.links),
            )
            for part in view.parts
        ],
        text=[
            TextOut(
                role=piece.role.value,
                part=piece.part.label if piece.part else None,
                text=piece.text,
            )
            for piece in view.pieces
        ],
        truncated=view.truncated,
    )


@router.get("", response_model=VerdictPage, responses={422: {"model": ErrorBody}})
async def read_verdicts(
    reads: ReadsDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
    decision: Decision | None = None,
    customer: Annotated[str | None, Query(max_length=64, pattern=LOGIN.pattern)] = None,
    message_id: Annotated[str | None, Query(max_length=998, pattern=NO_NUL)] = None,
    state: Annotated[
        Literal["open"] | None,
        Query(
            description="open: review, otp_required, postal_required or "
            "confirmation_required that no review, owner's answer or complete postal "
            "documents settled yet (the console's queue)"
        ),
    ] = None,
    service: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=253,
            description="a domain (either form) or server id among the instruction's services",
        ),
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="recorded at or after (ISO 8601 with a zone)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="recorded before (ISO 8601 with a zone)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Newest first, filtered; follow ``next_cursor`` for older verdicts."""
    wanted = VerdictFilter(
        decision=decision,
        customer=customer,
        message_id=message_id,
        state=state,
        service=parse_service(service).unicode if service is not None else None,
        since=since,
        until=until,
    )
    read = partial(list_verdicts, wanted=wanted, limit=limit, cursor=cursor)
    page = await reads.run(read)
    return stored_json({"items": page.items, "next_cursor": page.next_cursor})


def stored_json(content: Mapping[str, Any]) -> Response:
    """``content`` (verdicts as recorded) as the JSON FastAPI would send for the model.

    Verdicts are written only by app.records.verdicts, always in the shape of VerdictOut, so
    validating them again on every read buys nothing. pydantic's own serialiser writes
    them without a model: the bytes FastAPI's response_model path writes (compact, UTF-8
    unescaped, fields in the order recorded, which is the model's), in a quarter of
    json.dumps's time: a page of 50 verdicts is 130 KB of JSON.
    tests/app/api/test_verdicts.py compares the two.
    """
    return Response(to_json(content), media_type="application/json")
