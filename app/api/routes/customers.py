"""/v1/customers/{login}: the registry the Customer Panel keeps in sync."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Response, status

from app.api.deps import ReadSessionDep, SessionDep, SettingsDep, require
from app.api.idempotency import IdempotencyDep, about_no_customer
from app.api.schemas import (
    CustomerIn,
    CustomerList,
    CustomerOut,
    ErasureIn,
    ErasureOut,
    ErrorBody,
)
from app.auth import Principal
from app.db.engine import checkpoint_sqlite
from app.records.erasure import erase_customer
from app.registry.customers import (
    CustomerData,
    delete_customer,
    get_customer,
    owners_of,
    parse_service,
    put_customer,
    validate,
)

router = APIRouter(prefix="/v1/customers", tags=["registry"])

Login = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")]


@router.put(
    "/{login}",
    response_model=CustomerOut,
    responses={201: {"model": CustomerOut}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def put(
    login: Login,
    body: CustomerIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require("registry:write"))],
) -> CustomerOut:
    """Create or replace a customer; 409 if a service already belongs to another one."""
    customer = validate(
        login,
        CustomerData(
            panel_email=body.panel_email,
            kind=body.kind,
            name=body.name,
            services=tuple(body.services),
            pesel=body.pesel,
            nip=body.nip,
            regon=body.regon,
        ),
    )
    row, created = put_customer(session, customer, settings.require_secret_key())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return CustomerOut.of(row)


@router.get("", response_model=CustomerList, responses={422: {"model": ErrorBody}})
def holders(
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("registry:read"))],
    service: Annotated[
        str,
        Query(
            min_length=1,
            max_length=253,
            description="A domain (U-label or A-label, any case) or a server id",
        ),
    ],
) -> CustomerList:
    """Who holds ``service``: the registered customer, panel address in full."""
    name = parse_service(service).ascii
    return CustomerList(items=[CustomerOut.of(c) for c in owners_of(session, (name,)).values()])


@router.get("/{login}", response_model=CustomerOut, responses={404: {"model": ErrorBody}})
def get(
    login: Login,
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("registry:read"))],
) -> CustomerOut:
    return CustomerOut.of(get_customer(session, login))


@router.delete(
    "/{login}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": ErrorBody}}
)
def remove(
    login: Login,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("registry:write"))],
) -> Response:
    delete_customer(session, login)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{login}/erasure",
    status_code=status.HTTP_201_CREATED,
    response_model=ErasureOut,
    responses={404: {"model": ErrorBody}},
)
def erase(
    login: Login,
    body: ErasureIn,
    session: SessionDep,
    background: BackgroundTasks,
    _: Annotated[Principal, Depends(require("registry:write"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Erase the customer's personal data (registry row, personal side data of the audit
    chain, raw messages of their verdicts); verdicts, reviews, actions and every hash
    stay, and the chain still verifies. See README, "Audit and records"."""
    # After the commit (the session's dependency ends before the response is sent).
    background.add_task(checkpoint_sqlite, session.get_bind().engine)
    return idempotency.run(
        session,
        lambda: erase_customer(session, login, body.agent, body.reason).as_dict(),
        ErasureOut,
        201,
        # Its counts and the login (kept as the records' pseudonymous key) stay.
        about_no_customer,
    )
