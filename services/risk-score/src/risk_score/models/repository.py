"""SQL of the stored learned models."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.models.models import LearnedModelRow


async def promoted(session: AsyncSession) -> LearnedModelRow | None:
    found = await session.exec(select(LearnedModelRow).where(col(LearnedModelRow.promoted)))
    return found.first()


async def promoted_version(session: AsyncSession) -> str | None:
    found = await session.exec(select(LearnedModelRow.version).where(col(LearnedModelRow.promoted)))
    return found.first()


async def next_sequence(session: AsyncSession) -> int:
    found = await session.exec(select(sa.func.max(LearnedModelRow.sequence)))
    return int(found.one() or 0) + 1


async def demote_all(session: AsyncSession) -> None:
    await session.exec(
        sa.update(LearnedModelRow).where(col(LearnedModelRow.promoted)).values(promoted=False)
    )


async def get(session: AsyncSession, version: str) -> LearnedModelRow | None:
    return await session.get(LearnedModelRow, version)


async def page(
    session: AsyncSession, *, limit: int, before: int | None
) -> Sequence[LearnedModelRow]:
    """Newest first; `before` is the sequence the previous page ended at."""
    query = select(LearnedModelRow).order_by(col(LearnedModelRow.sequence).desc()).limit(limit)
    if before is not None:
        query = query.where(LearnedModelRow.sequence < before)
    return (await session.exec(query)).all()
