"""SQL of the taxa domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.taxa.models import Distribution, ListingChange, TaxonConcept, TaxonName

_CHUNK = 2000
_PerTaxon = TypeVar("_PerTaxon", TaxonName, ListingChange, Distribution)


async def count_taxa(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(TaxonConcept)) or 0)


async def _insert(session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        await session.exec(sa.insert(table), params=list(rows[start : start + _CHUNK]))


async def insert_taxa(
    session: AsyncSession,
    *,
    concepts: Sequence[dict[str, Any]],
    names: Sequence[dict[str, Any]],
    listings: Sequence[dict[str, Any]],
    distributions: Sequence[dict[str, Any]],
) -> None:
    """Bulk insert (executemany in chunks): the concepts first, for the foreign keys."""
    for model, rows in (
        (TaxonConcept, concepts),
        (TaxonName, names),
        (ListingChange, listings),
        (Distribution, distributions),
    ):
        await _insert(session, table_of(model), rows)


def table_of(model: type[object]) -> sa.Table:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


async def get_taxon(session: AsyncSession, taxon_id: int) -> TaxonConcept | None:
    return await session.get(TaxonConcept, taxon_id)


async def names_of(session: AsyncSession, taxon_id: int) -> list[TaxonName]:
    query = select(TaxonName).where(TaxonName.taxon_id == taxon_id).order_by(col(TaxonName.id))
    return list(await session.exec(query))


async def listings_of(
    session: AsyncSession, taxon_id: int, *, current: bool | None
) -> list[ListingChange]:
    """The taxon's listing changes: the current ones (True), the historic ones (False), or
    all (None)."""
    query = select(ListingChange).where(ListingChange.taxon_id == taxon_id)
    if current is not None:
        query = query.where(col(ListingChange.is_current).is_(current))
    return list(
        await session.exec(query.order_by(col(ListingChange.appendix), col(ListingChange.id)))
    )


async def distributions_of(session: AsyncSession, taxon_id: int) -> list[Distribution]:
    query = (
        select(Distribution)
        .where(Distribution.taxon_id == taxon_id)
        .order_by(col(Distribution.country), col(Distribution.tag))
    )
    return list(await session.exec(query))


async def current_appendices(
    session: AsyncSession, taxon_ids: Sequence[int]
) -> dict[int, list[str]]:
    query = (
        select(ListingChange.taxon_id, ListingChange.appendix)
        .where(col(ListingChange.taxon_id).in_(taxon_ids), col(ListingChange.is_current).is_(True))
        .order_by(col(ListingChange.appendix))
    )
    found: dict[int, list[str]] = {taxon_id: [] for taxon_id in taxon_ids}
    for taxon_id, appendix in await session.exec(query):
        if appendix not in found[taxon_id]:
            found[taxon_id].append(appendix)
    return found


async def page_of_taxa(
    session: AsyncSession,
    *,
    name: str | None,
    updated_since: datetime | None,
    after_id: int | None,
    limit: int,
) -> list[TaxonConcept]:
    """Taxa by id, keyset-paginated (`after_id`), optionally by exact name (any case)."""
    query = select(TaxonConcept)
    if name is not None:
        query = query.where(sa.func.lower(TaxonConcept.full_name) == name.strip().lower())
    if updated_since is not None:
        query = query.where(col(TaxonConcept.updated_at) >= updated_since)
    if after_id is not None:
        query = query.where(col(TaxonConcept.id) > after_id)
    return list(await session.exec(query.order_by(col(TaxonConcept.id)).limit(limit)))


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
