"""Writing audit rows, in the unit of work of what they record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.identity import Caller
from risk_score.audit.models import RiskAuditEntry

AuditAction = Literal["profile_version_created", "outcome_recorded", "assessment_read"]


def record(
    session: AsyncSession,
    *,
    action: AuditAction,
    object_type: Literal["profile", "assessment"],
    object_id: str,
    caller: Caller,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        RiskAuditEntry(
            action=action,
            object_type=object_type,
            object_id=object_id,
            client_id=caller.client_id,
            country=caller.country[:2],
            at=datetime.now(UTC),
            details=details or {},
        )
    )
