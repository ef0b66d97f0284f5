"""Reading and raising the reference revision (SQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.reference.models import REVISION_ROW, ReferenceRevision
from species_ref.taxa.repository import table_of

_TABLE = table_of(ReferenceRevision)


async def bump_revision(session: AsyncSession) -> None:
    """Raise the revision in the caller's transaction: call it from every transaction that
    changes taxa, names, listings, distributions, restrictions or guides. The row is
    created by the migration; an UPDATE takes its row lock, so concurrent writers queue."""
    await session.exec(
        sa.update(_TABLE)
        .where(_TABLE.c.id == REVISION_ROW)
        .values(revision=_TABLE.c.revision + 1, changed_at=datetime.now(UTC))
    )


async def current_revision(session: AsyncSession) -> int:
    found = await session.scalar(sa.select(_TABLE.c.revision).where(_TABLE.c.id == REVISION_ROW))
    return int(found or 0)
