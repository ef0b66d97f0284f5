"""SQL of outcomes."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.outcomes.models import Outcome


async def get(session: AsyncSession, assessment_id: str) -> Outcome | None:
    return await session.get(Outcome, assessment_id)


async def add(session: AsyncSession, row: Outcome) -> None:
    session.add(row)
    await session.flush()
