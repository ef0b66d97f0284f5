"""SQL of the Species+ sync state row: reading it, taking, renewing and releasing its lease.
Taxa and restrictions are written through `taxa.writer` and `restrictions.writer`, with the
SQL of their own domains' repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.speciesplus.models import SYNC_STATE_ROW, SpeciesPlusSyncState
from species_ref.taxa.repository import table_of

# --- the sync state -------------------------------------------------------------------------

_STATE = table_of(SpeciesPlusSyncState)
_TIMES = ("updated_since", "last_started_at", "last_finished_at", "lease_until")


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def sync_state(session: AsyncSession) -> SpeciesPlusSyncState:
    """The one state row (created by the migration), times in UTC."""
    query = (
        select(SpeciesPlusSyncState)
        .where(SpeciesPlusSyncState.id == SYNC_STATE_ROW)
        .execution_options(populate_existing=True)
    )
    state = (await session.exec(query)).one()
    for name in _TIMES:
        setattr(state, name, _utc(getattr(state, name)))
    session.expunge(state)
    return state


async def take_lease(
    session: AsyncSession, *, owner: str, now: datetime, until: datetime, values: dict[str, Any]
) -> bool:
    """Take the lease if nobody holds it or its holder let it lapse, writing `values` with
    it; False if another holds it. One UPDATE: concurrent takers queue on the row lock (the
    write lock on SQLite) and the loser finds the lease taken when it re-reads the row."""
    result = await session.exec(
        sa.update(_STATE)
        .where(
            _STATE.c.id == SYNC_STATE_ROW,
            sa.or_(_STATE.c.lease_owner.is_(None), _STATE.c.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=until, last_started_at=now, **values)
    )
    return bool(result.rowcount)


async def update_held(session: AsyncSession, *, owner: str, values: dict[str, Any]) -> bool:
    """Write `values` if `owner` still holds the lease; False if it was lost (it lapsed and
    another run took it over), in which case nothing is written."""
    result = await session.exec(
        sa.update(_STATE)
        .where(_STATE.c.id == SYNC_STATE_ROW, _STATE.c.lease_owner == owner)
        .values(**values)
    )
    return bool(result.rowcount)
