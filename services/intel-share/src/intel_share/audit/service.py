"""Writing the audit trail (in the unit of work of the read or change it records) and
reading it: an originator organisation sees who did what with its records; an admin sees
everything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.audit import repository
from intel_share.audit.models import IntelAuditEntry
from intel_share.audit.schemas import AuditAction, AuditEntryOut, AuditPage
from pangolin_core.errors import BadRequest
from pangolin_core.identity import Caller
from pangolin_core.pagination import decode_cursor, encode_cursor


def utc(moment: datetime) -> datetime:
    """SQLite gives times back without their zone: they are all UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def record(
    *,
    session: AsyncSession,
    action: AuditAction,
    caller: Caller,
    record_ids: Sequence[str],
    query: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    await repository.add(
        session,
        at=at or datetime.now(UTC),
        action=action.value,
        client_id=caller.client_id,
        viewer=Viewer.of(caller),
        record_ids=record_ids,
        query=query or {},
    )


def is_admin(caller: Caller) -> bool:
    return caller.has_scope("admin")


async def trail(
    *,
    session: AsyncSession,
    caller: Caller,
    record_id: str | None,
    limit: int,
    cursor: str | None,
) -> AuditPage:
    before = decode_cursor(cursor).get("before") if cursor is not None else None
    if before is not None and not isinstance(before, int):
        raise BadRequest("The cursor is not valid: pass back the `next` of a page.")
    owner = None if is_admin(caller) else Viewer.of(caller)
    rows = await repository.entries(
        session, owner=owner, record_id=record_id, before=before, limit=limit + 1
    )
    page = rows[:limit]
    ids = [row.id for row in page if row.id is not None]
    records = await repository.records_of(session, audit_ids=ids, owner=owner)

    def named(row: IntelAuditEntry) -> bool:
        anonymous = row.action == AuditAction.SIGHTED and row.query.get("anonymous") is True
        return (
            owner is None
            or not anonymous
            or (row.country, row.agency)
            == (
                owner.country,
                owner.agency,
            )
        )

    entries = [
        AuditEntryOut(
            id=row.id or 0,
            at=utc(row.at),
            action=AuditAction(row.action),
            client_id=row.client_id if named(row) else None,
            agency=row.agency if named(row) else None,
            country=row.country if named(row) else None,
            query=row.query,
            record_ids=records.get(row.id or 0, []),
        )
        for row in page
    ]
    more = len(rows) > limit
    return AuditPage(
        entries=entries, next=encode_cursor({"before": entries[-1].id}) if more else None
    )
