"""SQL of assessments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.assessments.models import Assessment
from risk_score.outcomes.models import Outcome


def insert_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One Core insert for a batch of `Assessment.model_dump()`s: the hot path's write, in a
    `Database.run` unit of work."""
    conn.execute(sa.insert(Assessment), list(rows))


async def get(session: AsyncSession, assessment_id: str) -> Assessment | None:
    return await session.get(Assessment, assessment_id)


async def with_outcomes(
    session: AsyncSession, *, start: datetime | None, end: datetime | None
) -> Sequence[tuple[Assessment, Outcome | None]]:
    """Assessments made in [start, end), each with its outcome when one was recorded."""
    query = select(Assessment, Outcome).join(
        Outcome, col(Outcome.assessment_id) == col(Assessment.id), isouter=True
    )
    if start is not None:
        query = query.where(col(Assessment.created_at) >= start)
    if end is not None:
        query = query.where(col(Assessment.created_at) < end)
    rows = (await session.exec(query.order_by(col(Assessment.created_at)))).all()
    return [(a, o) for a, o in rows]
