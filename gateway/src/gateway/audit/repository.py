"""All SQL of the audit trail: append a batch, read a page newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.audit.models import AuditEntry
from gateway.state import AuditRecord

audit_table: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]


def as_utc(moment: datetime) -> datetime:
    """Times are stored in UTC (SQLite keeps no offset: an aware value would lose it)."""
    if moment.tzinfo is None:  # read back from SQLite: stored in UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_COLUMNS = tuple(f.name for f in fields(AuditRecord))


def _row(entry: AuditRecord) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in _COLUMNS}
    row["at"] = as_utc(entry.at)
    return row


async def append(session: AsyncSession, entries: Sequence[AuditRecord]) -> None:
    """One INSERT for the whole batch, rows in the order given (ids follow it)."""
    if entries:
        await session.exec(sa.insert(audit_table), params=[_row(e) for e in entries])


async def page(
    session: AsyncSession,
    *,
    client_id: str | None,
    since: datetime | None,
    until: datetime | None,
    status: int | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[AuditEntry]:
    """Entries newest first (time, then id), strictly after the position `before`."""
    query = select(AuditEntry)
    if client_id is not None:
        query = query.where(col(AuditEntry.client_id) == client_id)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= as_utc(since))
    if until is not None:
        query = query.where(col(AuditEntry.at) < as_utc(until))
    if status is not None:
        query = query.where(col(AuditEntry.status) == status)
    if before is not None:
        at, entry_id = as_utc(before[0]), before[1]
        query = query.where(
            col(AuditEntry.at) <= at,  # redundant, but lets the index on `at` start there
            sa.or_(col(AuditEntry.at) < at, col(AuditEntry.id) < entry_id),
        )
    query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return (await session.exec(query)).all()
