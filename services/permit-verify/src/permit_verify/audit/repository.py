"""SQL of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.identity import Caller
from permit_verify.audit.models import PermitAuditEntry
from permit_verify.audit.schemas import AuditAction


async def record(
    session: AsyncSession,
    *,
    permit_id: str,
    action: AuditAction,
    caller: Caller,
    at: datetime,
    details: dict[str, Any],
) -> None:
    session.add(
        PermitAuditEntry(
            permit_id=permit_id,
            action=action.value,
            client_id=caller.client_id,
            country=caller.country,
            at=at,
            details=details,
        )
    )


async def entries_of(
    session: AsyncSession, *, permit_id: str, after: int, limit: int
) -> Sequence[PermitAuditEntry]:
    query = (
        select(PermitAuditEntry)
        .where(PermitAuditEntry.permit_id == permit_id, col(PermitAuditEntry.id) > after)
        .order_by(col(PermitAuditEntry.id))
        .limit(limit)
    )
    return (await session.exec(query)).all()
