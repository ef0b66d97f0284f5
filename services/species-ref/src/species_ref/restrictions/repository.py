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
