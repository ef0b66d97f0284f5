"""SQL of the watchlist read model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.watchlists.models import WatchlistRecord


async def replace_record(
    session: AsyncSession,
    *,
    record_id: str,
    record_version: int,
    record_type: str,
    title: str,
    confidence: int,
    valid_until: date | None,
    entries: list[dict[str, Any]],
    at: datetime,
) -> bool:
    """Store the record's entries; False (nothing written) when a newer version is held."""
    row = await session.get(WatchlistRecord, record_id)
    if row is not None and row.record_version > record_version:
        return False
    if row is None:
        row = WatchlistRecord(
            record_id=record_id,
            record_version=record_version,
            record_type=record_type,
            title=title,
            confidence=confidence,
            valid_until=valid_until,
            entries=entries,
            updated_at=at,
        )
    else:
        row.record_version, row.record_type, row.title = record_version, record_type, title
        row.confidence, row.valid_until, row.entries, row.updated_at = (
            confidence,
            valid_until,
            entries,
            at,
        )
    session.add(row)
    await session.flush()
    return True


async def all_records(session: AsyncSession) -> Sequence[WatchlistRecord]:
    return (await session.exec(select(WatchlistRecord))).all()
