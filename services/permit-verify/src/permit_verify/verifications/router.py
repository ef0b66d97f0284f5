"""`/v1/verifications`: a single window verifies a declaration; reads a verification again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from pangolin_core.contracts.permits import Declaration
from pangolin_core.identity import Caller, requires_any_scope, requires_scope
from permit_verify.dependencies import (
    CodeListsDep,
    DatabaseDep,
    PartnersDep,
    RpcDep,
    SettingsDep,
    SignerDep,
)
from permit_verify.verifications import service
from permit_verify.verifications.schemas import VerificationOut

router = APIRouter(prefix="/v1/verifications", tags=["verifications"])

Verifier = Annotated[Caller, Depends(requires_scope("permits:verify"))]
# As the gateway's route table: whoever verifies, and customs reading permits.
Reader = Annotated[Caller, Depends(requires_any_scope("permits:verify", "permits:read"))]
VerificationId = Annotated[UUID, Path(description="The verification's id")]


@router.post(
    "",
    response_model=VerificationOut,
    summary="Verify a declaration's permits (per-line verdicts, findings, risk lane)",
    description="A replay with the same declaration id returns the stored first answer.",
)
async def verify_declaration(
    body: Declaration,
    db: DatabaseDep,
    caller: Verifier,
    codes: CodeListsDep,
    signer: SignerDep,
    rpc: RpcDep,
    settings: SettingsDep,
    directory: PartnersDep,
) -> Response:
    # No request session: the service's units of work are the transactions (on SQLite a
    # session's write transaction here would serialize verifications).
    out = await service.verify(
        db=db,
        declaration=body,
        caller=caller,
        codes=codes,
        signer=signer,
        rpc=rpc,
        species_timeout=settings.species_rpc_timeout,
        risk_timeout=settings.risk_rpc_timeout,
        today=datetime.now(UTC).date(),
        directory=directory,
    )
    # Serialised once, here: returned as a model, FastAPI would validate it against
    # `response_model` again before serialising it (the answer is built by the service).
    return Response(out.model_dump_json(), media_type="application/json")


@router.get("/{verification_id}", summary="A verification as it was answered")
async def get_verification(
    verification_id: VerificationId, db: DatabaseDep, _: Reader
) -> VerificationOut:
    return await service.read(db=db, verification_id=str(verification_id))
