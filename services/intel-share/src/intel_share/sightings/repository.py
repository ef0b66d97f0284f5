"""SQL of sightings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.sightings.models import Sighting


async def of_record(session: AsyncSession, record_id: str) -> Sequence[Sighting]:
    query = (
        select(Sighting)
        .where(Sighting.record_id == record_id)
        .order_by(col(Sighting.seen_on), col(Sighting.created_at))
    )
    return (await session.exec(query)).all()
