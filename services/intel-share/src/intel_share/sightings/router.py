"""`/v1/intel/records/{id}/sightings`: "seen here too"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from intel_share.dependencies import RECORD_PATH, CodeListsDep, RecordId
from intel_share.records.service import READ_SCOPE, WRITE_SCOPE
from intel_share.sightings import service
from intel_share.sightings.schemas import SightingIn, SightingList, SightingOut
from pangolin_core.db import AuditedReadSessionDep, SessionDep
from pangolin_core.identity import Caller, requires_scope

router = APIRouter(prefix="/v1/intel/records", tags=["intel records"])

Reader = Annotated[Caller, Depends(requires_scope(READ_SCOPE))]
Writer = Annotated[Caller, Depends(requires_scope(READ_SCOPE, WRITE_SCOPE))]


@router.post(RECORD_PATH + "/sightings", status_code=201, summary="Seen here too")
async def add_sighting(
    record_id: RecordId,
    body: SightingIn,
    session: SessionDep,
    caller: Writer,
    codes: CodeListsDep,
) -> SightingOut:
    return await service.add(
        session=session, record_id=str(record_id), request=body, caller=caller, codes=codes
    )


@router.get(RECORD_PATH + "/sightings", summary="The sightings of a record")
async def list_sightings(
    record_id: RecordId, session: AuditedReadSessionDep, caller: Reader
) -> SightingList:
    return await service.list_of(session=session, record_id=str(record_id), caller=caller)
