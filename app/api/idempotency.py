"""Idempotency-Key on the POSTs that record something.

The first answer to a key is kept in ``idempotency_keys``, in the transaction of the
record itself: either both are committed or neither, so a retry after a crash or a lost
response finds the answer, or finds nothing and records once. The same key with the same
request gets that answer again (same status, same body); with another request, 409.
Keys are scoped per caller (the token's principal) and per route. Only answers that
recorded something are kept: a refusal rolls the transaction back, and the retry is
decided afresh (nothing was recorded, so nothing can be recorded twice).

Each kept answer notes the customer it is about (every route says, through ``about``):
erasing that customer empties the answer (app.records.erasure), and a retry with its key
is then 410 ``idempotency_answer_erased``: the customer's data does not come back, and
nothing is recorded a second time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.deps import authenticated
from app.api.problems import ApiProblem
from app.auth import Principal
from app.db.models import IdempotencyKey, table_of
from app.db.types import utcnow
from app.records.erasure import ERASED_ANSWER
from app.records.verdicts import find_verdict
from app.settings import Settings

_NONCE_BYTES = 12
_TABLE = table_of(IdempotencyKey)

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry safely: the same key and request return the first answer, "
        "recorded once; the same key with another request is 409",
    ),
]


class KeyReused(ApiProblem):
    status, code = 409, "idempotency_key_reused"


class AnswerErased(ApiProblem):
    status, code = ERASED_ANSWER, "idempotency_answer_erased"


# Which customer an answer (as sent, JSON) is about, or None: what erasing them empties.
About = Callable[[dict[str, Any]], str | None]


def about_no_customer(_answer: dict[str, Any]) -> None:
    """Webhook subscriptions and deliveries, and an erasure's own counts."""
    return None


def about_customer(login: str) -> About:
    """An answer about the customer the path names."""
    return lambda _answer: login


def about_named_customer(answer: dict[str, Any]) -> str | None:
    """An answer that names its customer in its ``customer`` field."""
    customer = answer.get("customer")
    return customer if isinstance(customer, str) else None


def about_verdict_customer(session: Session, verdict_id: str) -> About:
    """An answer about a verdict (a review, an action, documents): its customer's."""

    return lambda _answer: find_verdict(session, verdict_id).customer


@dataclass(frozen=True)
class Idempotency:
    """The request's key, if any, and what identifies the request under it."""

    key: str | None
    principal: str
    route: str
    request_mac: str
    secret: bytes

    def run(
        self,
        session: Session,
        record: Callable[[], Any],
        model: Any,
        status_code: int,
        about: About,
    ) -> Any:
        """``record()``'s answer, or the first answer to this key without recording again;
        ``about`` says which customer the answer is about (see the module docstring)."""
        if self.key is None:
            return record()
        where = (
            (_TABLE.c.principal == self.principal)
            & (_TABLE.c.route == self.route)
            & (_TABLE.c.key == self.key)
        )
        found = session.execute(select(_TABLE).where(where)).first()
        if found is None:
            try:
                with session.begin_nested():
                    session.execute(
                        insert(_TABLE).values(
                            principal=self.principal,
                            route=self.route,
                            key=self.key,
                            request_mac=self.request_mac,
                            status=0,
                            response="",
                            created_at=utcnow(),
                        )
                    )
            except IntegrityError:
                # A concurrent request with this key committed first: its answer stands.
                found = session.execute(select(_TABLE).where(where)).first()
                if found is None:
                    raise
        if found is not None:
            if not hmac.compare_digest(found.request_mac, self.request_mac):
                raise KeyReused(
                    "this Idempotency-Key was already used with a different request; "
                    "use a new key for a new request"
                )
            if found.status == ERASED_ANSWER:
                raise AnswerErased(
                    "the first answer to this Idempotency-Key was about a customer whose "
                    "personal data has since been erased, so it is not given again; the "
                    "request was recorded then and is not recorded again"
                )
            body = json.loads(self._open(found.response))
            return JSONResponse(body, status_code=found.status)
        adapter: TypeAdapter[Any] = TypeAdapter(model)
        body = adapter.dump_python(
            adapter.validate_python(record(), from_attributes=True), mode="json", by_alias=True
        )
        sealed = self._seal(json.dumps(body, ensure_ascii=False))
        session.execute(
            update(_TABLE)
            .where(where)
            .values(status=status_code, response=sealed, customer=about(body))
        )
        return JSONResponse(body, status_code=status_code)

    def _aead(self) -> AESGCM:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"intakeguard idempotency"
        ).derive(self.secret)
        return AESGCM(key)

    def _bound(self) -> bytes:
        return f"{self.principal}\n{self.route}\n{self.key}".encode()

    def _seal(self, text: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead().encrypt(nonce, text.encode(), self._bound())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def _open(self, sealed: str) -> str:
        data = base64.b64decode(sealed)
        return (
            self._aead().decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], self._bound()).decode()
        )


async def get_idempotency(
    request: Request,
    principal: Annotated[Principal, Depends(authenticated)],
    key: KeyHeader = None,
) -> Idempotency:
    settings: Settings = request.app.state.settings
    secret = settings.require_secret_key()
    route = getattr(request.scope.get("route"), "path", request.url.path)
    mac = hmac.new(
        hashlib.sha256(b"intakeguard idempotency request" + secret).digest(), digestmod="sha256"
    )
    for part in (request.method, request.url.path, str(request.query_params)):
        mac.update(part.encode() + b"\n")
    mac.update(await request.body())
    return Idempotency(key, principal.name, route, mac.hexdigest(), secret)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
