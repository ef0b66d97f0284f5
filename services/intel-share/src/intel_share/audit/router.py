"""`GET /v1/intel/audit`: who read, searched, exported or changed the caller's records."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from intel_share.audit import service
from intel_share.audit.schemas import AuditPage
from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_any_scope

router = APIRouter(prefix="/v1/intel", tags=["intel audit"])

AuditReader = Annotated[Caller, Depends(requires_any_scope("intel:read", "admin"))]


@router.get(
    "/audit",
    summary="The audit trail of the caller organisation's records (everything, for an admin)",
)
async def get_audit(
    session: SessionDep,
    caller: AuditReader,
    record_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> AuditPage:
    return await service.trail(
        session=session,
        caller=caller,
        record_id=str(record_id) if record_id else None,
        limit=limit,
        cursor=cursor,
    )
