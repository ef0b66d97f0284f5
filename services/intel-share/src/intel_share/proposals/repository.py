"""SQL of proposals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.proposals.models import Proposal


async def of_record(
    session: AsyncSession, record_id: str, *, country: str | None, agency: str | None
) -> Sequence[Proposal]:
    """A record's proposals; with `country` and `agency`, only those that organisation made."""
    query = select(Proposal).where(Proposal.record_id == record_id)
    if country is not None and agency is not None:
        query = query.where(
            Proposal.proposed_by_country == country, Proposal.proposed_by_agency == agency
        )
    return (await session.exec(query.order_by(col(Proposal.created_at)))).all()


async def get_for_update(
    session: AsyncSession, record_id: str, proposal_id: str
) -> Proposal | None:
    query = (
        select(Proposal)
        .where(Proposal.id == proposal_id, Proposal.record_id == record_id)
        .with_for_update()
    )
    return (await session.exec(query)).first()
