"""`/v1/permits`: issue, read, change the status of permits; the signing keys as JWKS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_any_scope, requires_scope
from permit_verify.dependencies import PERMIT_PATH, CodeListsDep, PermitId, SignerDep
from permit_verify.idempotency import service as idempotency
from permit_verify.idempotency.service import IdempotencyKey, IdempotentCall
from permit_verify.permits import service
from permit_verify.permits.schemas import PermitIn, PermitOut, StatusChangeIn

router = APIRouter(prefix="/v1/permits", tags=["permits"])

Issuer = Annotated[Caller, Depends(requires_scope("permits:issue"))]
Reader = Annotated[Caller, Depends(requires_any_scope(*service.READ_SCOPES))]
# Public keys: whoever reads permits, and partner instances checking this country's signatures.
KeyReader = Annotated[Caller, Depends(requires_any_scope(*service.READ_SCOPES, "permits:lookup"))]
Country = Annotated[str, Path(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]


@router.get("/jwks/{country}", summary="The public keys that verify a country's permits")
async def get_jwks(country: Country, _: KeyReader, signer: SignerDep) -> dict[str, Any]:
    return signer.jwks(country)


@router.post(
    "",
    status_code=201,
    response_model=PermitOut,
    summary="Issue (or back-fill) a permit of the caller's country",
)
async def issue_permit(
    body: PermitIn,
    request: Request,
    session: SessionDep,
    caller: Issuer,
    signer: SignerDep,
    codes: CodeListsDep,
    idempotency_key: IdempotencyKey = None,
) -> PermitOut | JSONResponse:
    call = None
    if idempotency_key is not None:
        call = IdempotentCall(
            caller, idempotency_key, idempotency.fingerprint("POST", request.url.path, body)
        )
        replayed = await idempotency.replay(session=session, call=call)
        if replayed is not None:
            return replayed
    permit = await service.issue(
        session=session,
        request=body,
        caller=caller,
        signer=signer,
        codes=codes,
        today=datetime.now(UTC).date(),
    )
    if call is not None:
        await idempotency.remember(session=session, call=call, status_code=201, response=permit)
    return permit


@router.get(PERMIT_PATH, summary="A permit with its status and remaining balances")
async def get_permit(permit_id: PermitId, session: SessionDep, _: Reader) -> PermitOut:
    return await service.read(session=session, permit_id=str(permit_id))


@router.post(
    PERMIT_PATH + "/status",
    summary="Cancel a permit, or declare it lost, stolen or replaced (issuing MA only)",
)
async def change_status(
    permit_id: PermitId, body: StatusChangeIn, session: SessionDep, caller: Issuer
) -> PermitOut:
    return await service.change_status(
        session=session, permit_id=str(permit_id), change=body, caller=caller
    )
