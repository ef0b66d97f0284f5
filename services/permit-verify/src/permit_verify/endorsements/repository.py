"""SQL of endorsements (the balances themselves change in `permits.repository`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from permit_verify.endorsements.models import Endorsement, EndorsementLine


async def declaration_endorsed(
    session: AsyncSession, *, permit_id: str, declaration_id: str
) -> bool:
    query = select(Endorsement.id).where(
        Endorsement.permit_id == permit_id, Endorsement.declaration_id == declaration_id
    )
    return (await session.exec(query)).first() is not None


async def of_declaration(
    session: AsyncSession, *, permit_id: str, declaration_id: str
) -> tuple[Endorsement, Sequence[EndorsementLine]] | None:
    """The endorsement a declaration made of a permit, with its lines (None: none)."""
    query = select(Endorsement).where(
        Endorsement.permit_id == permit_id, Endorsement.declaration_id == declaration_id
    )
    endorsement = (await session.exec(query)).first()
    if endorsement is None:
        return None
    lines = await session.exec(
        select(EndorsementLine)
        .where(EndorsementLine.endorsement_id == endorsement.id)
        .order_by(col(EndorsementLine.id))
    )
    return endorsement, lines.all()


async def lines_of_permit(
    session: AsyncSession, permit_id: str
) -> Sequence[tuple[Endorsement, EndorsementLine]]:
    """Every endorsement line of a permit with its endorsement, oldest first."""
    query = (
        select(Endorsement, EndorsementLine)
        .join(EndorsementLine, col(EndorsementLine.endorsement_id) == col(Endorsement.id))
        .where(Endorsement.permit_id == permit_id)
        .order_by(
            col(Endorsement.endorsed_on), col(Endorsement.created_at), col(EndorsementLine.id)
        )
    )
    return (await session.exec(query)).all()


async def add(
    session: AsyncSession, endorsement: Endorsement, lines: Sequence[EndorsementLine]
) -> None:
    session.add(endorsement)
    await session.flush()
    session.add_all(lines)
    await session.flush()
