"""SQL of endorsements (the balances themselves change in `permits.repository`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from permit_verify.endorsements.models import Endorsement, EndorsementLine


async def declaration_endorsed(
    session: AsyncSession, *, permit_id: str, declaration_id: str
) -> bool:
    query = select(Endorsement.id).where(
        Endorsement.permit_id == permit_id, Endorsement.declaration_id == declaration_id
    )
    return (await session.exec(query)).first() is not None


async def add(
    session: AsyncSession, endorsement: Endorsement, lines: Sequence[EndorsementLine]
) -> None:
    session.add(endorsement)
    await session.flush()
    session.add_all(lines)
    await session.flush()
