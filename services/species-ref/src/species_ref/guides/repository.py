"""SQL of the guides domain."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.guides.models import IdGuide

GuideKey = tuple[int, str, str]  # taxon id, language, title


async def guides_on(session: AsyncSession, taxon_ids: Collection[int]) -> dict[GuideKey, IdGuide]:
    if not taxon_ids:
        return {}
    query = select(IdGuide).where(col(IdGuide.taxon_id).in_(sorted(taxon_ids)))
    return {
        (guide.taxon_id, guide.language, guide.title): guide
        for guide in await session.exec(query.execution_options(populate_existing=True))
    }


async def get_guide(session: AsyncSession, guide_id: int) -> IdGuide | None:
    return await session.get(IdGuide, guide_id)
