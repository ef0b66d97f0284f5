"""SQL of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.repository import originated_by
from intel_share.access.rules import Viewer
from intel_share.audit.models import IntelAuditEntry, IntelAuditRecord
from intel_share.records.models import IntelRecord


async def add(
    session: AsyncSession,
    *,
    at: datetime,
    action: str,
    client_id: str,
    viewer: Viewer,
    record_ids: Sequence[str],
    query: dict[str, Any],
) -> None:
    entry = IntelAuditEntry(
        at=at,
        action=action,
        client_id=client_id,
        agency=viewer.agency,
        country=viewer.country,
        query=query,
        record_count=len(record_ids),
    )
    session.add(entry)
    await session.flush()
    assert entry.id is not None
    session.add_all(
        IntelAuditRecord(audit_id=entry.id, record_id=record_id)
        for record_id in dict.fromkeys(record_ids)
    )


async def entries(
    session: AsyncSession,
    *,
    owner: Viewer | None,
    record_id: str | None,
    before: int | None,
    limit: int,
) -> Sequence[IntelAuditEntry]:
    """Newest first. `owner`: only entries that touched a record `owner` originated (None:
    every entry, for an admin)."""
    query = select(IntelAuditEntry)
    touched = sa.select(col(IntelAuditRecord.audit_id)).join(
        IntelRecord, col(IntelRecord.id) == col(IntelAuditRecord.record_id)
    )
    if owner is not None:
        touched = touched.where(originated_by(owner))
    if record_id is not None:
        touched = touched.where(col(IntelAuditRecord.record_id) == record_id)
    if owner is not None or record_id is not None:
        query = query.where(col(IntelAuditEntry.id).in_(touched))
    if before is not None:
        query = query.where(col(IntelAuditEntry.id) < before)
    query = query.order_by(col(IntelAuditEntry.id).desc()).limit(limit)
    return (await session.exec(query)).all()


async def records_of(
    session: AsyncSession, *, audit_ids: Sequence[int], owner: Viewer | None
) -> dict[int, list[str]]:
    """The records each entry touched; for an `owner`, only the records it originated (an
    entry never tells one originator which other records a search returned)."""
    found: dict[int, list[str]] = {audit_id: [] for audit_id in audit_ids}
    if not audit_ids:
        return found
    query = select(IntelAuditRecord.audit_id, IntelAuditRecord.record_id).where(
        col(IntelAuditRecord.audit_id).in_(audit_ids)
    )
    if owner is not None:
        query = query.join(
            IntelRecord, col(IntelRecord.id) == col(IntelAuditRecord.record_id)
        ).where(originated_by(owner))
    for audit_id, record_id in (
        await session.exec(query.order_by(col(IntelAuditRecord.record_id)))
    ).all():
        found[audit_id].append(record_id)
    return found
