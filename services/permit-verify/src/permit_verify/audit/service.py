"""Reading a permit's audit trail (writing is `repository.record`, in the change's unit of
work, so an action and its audit row commit together)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import BadRequest
from pangolin_core.pagination import decode_cursor, encode_cursor
from permit_verify.audit import repository
from permit_verify.audit.schemas import AuditAction, AuditEntryOut, PermitHistoryOut
from permit_verify.permits import repository as permits


async def history(
    *, session: AsyncSession, permit_id: str, limit: int, cursor: str | None
) -> PermitHistoryOut:
    await permits.get(session, permit_id)  # 404 for an unknown permit
    after = decode_cursor(cursor).get("after", 0) if cursor is not None else 0
    if not isinstance(after, int):
        raise BadRequest("The cursor is not valid: pass back the `next` of a page.")
    rows = await repository.entries_of(session, permit_id=permit_id, after=after, limit=limit + 1)
    page = rows[:limit]
    entries = [
        AuditEntryOut(
            id=row.id or 0,
            action=AuditAction(row.action),
            client_id=row.client_id,
            country=row.country,
            at=row.at,
            details=row.details,
        )
        for row in page
    ]
    more = len(rows) > limit
    return PermitHistoryOut(
        permit_id=permit_id,
        entries=entries,
        next=encode_cursor({"after": entries[-1].id}) if more and entries else None,
    )
