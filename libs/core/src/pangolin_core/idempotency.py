"""`Idempotency-Key` for creating and endorsing POSTs, the same in every service (each
service keeps the answers in its own `idempotent_request` table, given to `IdempotencyStore`).

The key is the client's (two clients may use the same key). Within the request's unit of
work: a stored answer for (client, key) is replayed when the request is the same (method,
path and validated body), and a different request with the key is a 422
`idempotency_key_reused` (draft-ietf-httpapi-idempotency-key-header: a reused key with
another payload is unprocessable). A successful answer is stored in the same transaction as
the change, so either both are there or neither; failed requests store nothing and may be
retried with the same key. Two first requests racing with one key: on SQLite they queue on
the write lock (the second replays); on PostgreSQL the second one's insert fails at commit
and it gets a 409 with its change rolled back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="A replay with the same key returns the first result",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class IdempotentCall:
    """One request that carries a key: replay it, or remember its answer."""

    caller: Caller
    key: str
    fingerprint: str


def fingerprint(method: str, path: str, body: BaseModel) -> str:
    raw = json.dumps(
        {"method": method, "path": path, "body": body.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(raw.encode()).hexdigest()


class IdempotencyKeyReused(InvalidInput):
    code, title = "idempotency_key_reused", "Idempotency-Key reused with another request"


class IdempotentRecord(Protocol):
    """A service's `idempotent_request` row (primary key: client id, key)."""

    fingerprint: str
    status_code: int
    response: dict[str, Any]


class IdempotentRecordTable(Protocol):
    def __call__(
        self,
        *,
        client_id: str,
        key: str,
        fingerprint: str,
        status_code: int,
        response: dict[str, Any],
        created_at: datetime,
    ) -> IdempotentRecord: ...


class IdempotencyStore:
    """Replays and remembers answers in one service's table."""

    def __init__(self, table: IdempotentRecordTable) -> None:
        self.table = table

    async def replay(self, *, session: AsyncSession, call: IdempotentCall) -> JSONResponse | None:
        key = (call.caller.client_id, call.key)
        stored: IdempotentRecord | None = await session.get(self.table, key)  # type: ignore[arg-type]
        if stored is None:
            return None
        if stored.fingerprint != call.fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for another request: use a new key.",
                errors=[
                    {
                        "location": "header",
                        "field": "Idempotency-Key",
                        "message": "already used with a different request",
                        "type": "idempotency_key_reused",
                    }
                ],
            )
        return JSONResponse(
            stored.response, status_code=stored.status_code, headers={REPLAYED_HEADER: "true"}
        )

    async def remember(
        self, *, session: AsyncSession, call: IdempotentCall, status_code: int, response: BaseModel
    ) -> None:
        body: dict[str, Any] = response.model_dump(mode="json")
        session.add(
            self.table(
                client_id=call.caller.client_id,
                key=call.key,
                fingerprint=call.fingerprint,
                status_code=status_code,
                response=body,
                created_at=datetime.now(UTC),
            )
        )
        await session.flush()
