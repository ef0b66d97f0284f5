"""`/v1/permits/lookup` and `/v1/permits/{id}/confirmations`: what partner countries call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pangolin_core.db import AuditedReadSessionDep, SessionDep
from pangolin_core.identity import Caller, requires_any_scope, requires_scope
from permit_verify.dependencies import PERMIT_PATH, PartnersDep, PermitId
from permit_verify.endorsements.schemas import EndorsementOut
from permit_verify.partners import service
from permit_verify.partners.schemas import ConfirmationIn, IssuingCountry, PermitNumber
from permit_verify.permits.schemas import PermitOut

router = APIRouter(prefix="/v1/permits", tags=["partners"])

LookupCaller = Annotated[Caller, Depends(requires_any_scope("permits:lookup", "permits:read"))]
Partner = Annotated[Caller, Depends(requires_scope("permits:lookup"))]


@router.get(
    "/lookup",
    response_model=PermitOut,
    summary="A permit this registry issued, as issued (signature, status, balances)",
)
async def lookup_permit(
    number: Annotated[PermitNumber, Query(description="The permit number (box 1)")],
    issuing_country: Annotated[IssuingCountry, Query(description="ISO 3166-1 alpha-2")],
    session: AuditedReadSessionDep,  # the lookup is audited: a write
    caller: LookupCaller,
    directory: PartnersDep,
) -> PermitOut:
    return await service.lookup(
        session=session,
        number=number,
        issuing_country=issuing_country,
        caller=caller,
        directory=directory,
    )


@router.post(
    PERMIT_PATH + "/confirmations",
    status_code=201,
    response_model=EndorsementOut,
    summary="A partner confirms the quantities it endorsed on a permit issued here",
    description="The same confirmation again answers 200 with the first one as it stands.",
    responses={200: {"description": "Confirmed before: nothing new recorded"}},
)
async def confirm_endorsement(
    permit_id: PermitId,
    body: ConfirmationIn,
    session: SessionDep,
    caller: Partner,
    directory: PartnersDep,
) -> EndorsementOut | JSONResponse:
    recorded, created = await service.confirm(
        session=session,
        permit_id=str(permit_id),
        confirmation=body,
        caller=caller,
        directory=directory,
        today=datetime.now(UTC).date(),
    )
    if not created:
        return JSONResponse(recorded.model_dump(mode="json"), status_code=200)
    return recorded
