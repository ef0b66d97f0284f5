"""SQL of the restrictions domain."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.tables import SpeciesRefTable
from species_ref.taxa.repository import table_of

RestrictionModel = TypeVar("RestrictionModel", ExportQuota, TradeSuspension, Reservation)

_CHUNK = 2000


async def publication_rows(
    session: AsyncSession, model: type[RestrictionModel], *, source_prefix: str
) -> list[RestrictionModel]:
    """The rows publications wrote (their `source` starts with `source_prefix`)."""
    query = select(model).where(col(model.source).startswith(source_prefix))
    return list(await session.exec(query.execution_options(populate_existing=True)))


async def next_id(session: AsyncSession, model: type[SpeciesRefTable], *, at_least: int) -> int:
    """The next free id at or above `at_least` (a range of ids a source keeps to itself)."""
    table = table_of(model)
    found = await session.scalar(sa.select(sa.func.max(table.c.id)).where(table.c.id >= at_least))
    return at_least if found is None else int(found) + 1


async def count_restrictions(session: AsyncSession) -> int:
    total = 0
    for model in (ExportQuota, TradeSuspension, Reservation):
        total += int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
    return total


async def insert(
    session: AsyncSession, model: type[SpeciesRefTable], rows: Sequence[dict[str, Any]]
) -> None:
    for start in range(0, len(rows), _CHUNK):
        await session.exec(sa.insert(table_of(model)), params=list(rows[start : start + _CHUNK]))


async def restrictions_for(
    session: AsyncSession,
    model: type[RestrictionModel],
    *,
    taxon_id: int,
    names: Collection[tuple[str, str]],
    country: str | None,
) -> list[RestrictionModel]:
    """Restrictions placed on the taxon (by id), on any (rank, name) of `names`, or on no
    taxon; of `country` or of every country (`country` None: any country)."""
    on_taxon: list[sa.ColumnElement[bool]] = [
        col(model.taxon_id) == taxon_id,
        col(model.taxon_name).is_(None),
    ]
    for rank, name in sorted(names):
        on_taxon.append(sa.and_(col(model.taxon_name) == name, col(model.rank) == rank))
    query = select(model).where(sa.or_(*on_taxon))
    if country is not None:
        query = query.where(sa.or_(col(model.country).is_(None), col(model.country) == country))
    return list(await session.exec(query.order_by(col(model.start_date), col(model.id))))


async def restrictions_by_id(
    session: AsyncSession, model: type[RestrictionModel], ids: Collection[int]
) -> dict[int, RestrictionModel]:
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
    model: type[ExportQuota] | type[TradeSuspension] | type[Reservation],
    restriction_id: int,
    values: dict[str, Any],
) -> None:
    table = table_of(model)
    await session.exec(sa.update(table).where(table.c.id == restriction_id).values(**values))
