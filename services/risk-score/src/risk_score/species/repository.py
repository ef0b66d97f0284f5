"""SQL of the species read model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.species.models import SpeciesTaxon


async def upsert(
    session: AsyncSession, *, taxon_id: int, full_name: str, appendices: list[str], at: datetime
) -> None:
    row = await session.get(SpeciesTaxon, taxon_id)
    if row is None:
        row = SpeciesTaxon(
            taxon_id=taxon_id, full_name=full_name, appendices=appendices, updated_at=at
        )
    else:
        row.full_name, row.appendices, row.updated_at = full_name, appendices, at
    session.add(row)
    await session.flush()


async def all_taxa(session: AsyncSession) -> Sequence[SpeciesTaxon]:
    return (await session.exec(select(SpeciesTaxon))).all()
