"""SQL of the Species+ sync: the stored state of a page of taxa, and its replacement.
Restriction rows are inserted through `species_ref.restrictions.repository`; what that
repository has no statement for (reading by id, ending a row) is here. And the sync state
row: reading it, taking, renewing and releasing its lease."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.restrictions.models import ExportQuota, TradeSuspension
from species_ref.speciesplus.models import SYNC_STATE_ROW, SpeciesPlusSyncState
from species_ref.taxa.models import Distribution, ListingChange, TaxonConcept, TaxonName
from species_ref.taxa.repository import table_of

_PerTaxon = TypeVar("_PerTaxon", TaxonName, ListingChange, Distribution)
_Restriction = TypeVar("_Restriction", ExportQuota, TradeSuspension)


async def taxa_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, TaxonConcept]:
    if not ids:
        return {}
    query = (
        select(TaxonConcept)
        .where(col(TaxonConcept.id).in_(sorted(ids)))
        .execution_options(populate_existing=True)
    )
    return {taxon.id: taxon for taxon in await session.exec(query)}


async def rows_by_taxon(
    session: AsyncSession, model: type[_PerTaxon], ids: Collection[int]
) -> dict[int, list[_PerTaxon]]:
    found: dict[int, list[_PerTaxon]] = defaultdict(list)
    if ids:
        query = (
            select(model)
            .where(col(model.taxon_id).in_(sorted(ids)))
            .execution_options(populate_existing=True)
        )
        for row in await session.exec(query):
            found[row.taxon_id].append(row)
    return found


async def insert_rows(
    session: AsyncSession, model: type[object], rows: Sequence[dict[str, Any]]
) -> None:
    if rows:
        await session.exec(sa.insert(table_of(model)), params=list(rows))


async def update_taxon(session: AsyncSession, taxon_id: int, values: dict[str, Any]) -> None:
    table = table_of(TaxonConcept)
    await session.exec(sa.update(table).where(table.c.id == taxon_id).values(**values))


async def replace_rows(
    session: AsyncSession,
    model: type[TaxonName] | type[ListingChange] | type[Distribution],
    taxon_id: int,
    rows: Sequence[dict[str, Any]],
) -> None:
    table = table_of(model)
    await session.exec(sa.delete(table).where(table.c.taxon_id == taxon_id))
    await insert_rows(session, model, rows)


async def restrictions_by_id(
    session: AsyncSession, model: type[_Restriction], ids: Collection[int]
) -> dict[int, _Restriction]:
    if not ids:
        return {}
    query = (
        select(model)
        .where(col(model.id).in_(sorted(ids)))
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in await session.exec(query)}


async def update_restriction(
    session: AsyncSession,
    model: type[ExportQuota] | type[TradeSuspension],
    restriction_id: int,
    values: dict[str, Any],
) -> None:
    table = table_of(model)
    await session.exec(sa.update(table).where(table.c.id == restriction_id).values(**values))


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
