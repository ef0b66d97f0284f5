"""`POST /v1/permits/{id}/endorsements`: customs endorses a permit at clearance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_scope
from permit_verify.dependencies import PERMIT_PATH, PermitId
from permit_verify.endorsements import service
from permit_verify.endorsements.schemas import EndorsementIn, EndorsementOut
from permit_verify.idempotency import service as idempotency
from permit_verify.idempotency.service import IdempotencyKey, IdempotentCall

router = APIRouter(prefix="/v1/permits", tags=["endorsements"])

Endorser = Annotated[Caller, Depends(requires_scope("permits:endorse"))]


@router.post(
    PERMIT_PATH + "/endorsements",
    status_code=201,
    response_model=EndorsementOut,
    summary="Endorse the quantities shipped; 409 with the balances when they are not there",
)
async def endorse_permit(
    permit_id: PermitId,
    body: EndorsementIn,
    request: Request,
    session: SessionDep,
    caller: Endorser,
    idempotency_key: IdempotencyKey = None,
) -> EndorsementOut | JSONResponse:
    call = None
    if idempotency_key is not None:
        call = IdempotentCall(
            caller, idempotency_key, idempotency.fingerprint("POST", request.url.path, body)
        )
        replayed = await idempotency.replay(session=session, call=call)
        if replayed is not None:
            return replayed
    endorsement = await service.endorse(
        session=session,
        permit_id=str(permit_id),
        request=body,
        caller=caller,
        today=datetime.now(UTC).date(),
    )
    if call is not None:
        await idempotency.remember(
            session=session, call=call, status_code=201, response=endorsement
        )
    return endorsement
