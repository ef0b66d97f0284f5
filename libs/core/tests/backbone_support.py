"""Shared pieces of the backbone tests: a table the handlers change, and its helpers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pangolin_core.db import Database, service_metadata

# A table the test handlers change, so "applied once" is checked in the database itself.
test_metadata = service_metadata()
tally = sa.Table(
    "tally",
    test_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)


async def count_of(db: Database, key: str) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(sa.select(tally.c.count).where(tally.c.key == key))
    return int(value or 0)


async def bump(session: AsyncSession, key: str) -> None:
    """Add one to the tally of `key`, portable across SQLite and PostgreSQL."""
    updated = await session.exec(
        sa.update(tally).where(tally.c.key == key).values(count=tally.c.count + 1)
    )
    if not updated.rowcount:
        await session.exec(sa.insert(tally).values(key=key, count=1))
