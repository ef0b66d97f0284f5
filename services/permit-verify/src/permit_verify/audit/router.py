"""`GET /v1/permits/{id}/history`: what was done to a permit, by whom and when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_any_scope
from permit_verify.audit import service
from permit_verify.audit.schemas import PermitHistoryOut
from permit_verify.dependencies import PERMIT_PATH, PermitId
from permit_verify.permits.service import READ_SCOPES

router = APIRouter(prefix="/v1/permits", tags=["permits"])

Reader = Annotated[Caller, Depends(requires_any_scope(*READ_SCOPES))]


@router.get(PERMIT_PATH + "/history", summary="The audit trail of a permit, oldest first")
async def get_history(
    permit_id: PermitId,
    session: SessionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> PermitHistoryOut:
    return await service.history(
        session=session, permit_id=str(permit_id), limit=limit, cursor=cursor
    )
