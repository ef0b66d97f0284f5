"""SQL of the publications domain."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from species_ref.publications.models import Publication
from species_ref.taxa.models import TaxonConcept
from species_ref.taxa.repository import table_of

_TABLE = table_of(Publication)
_TAXON = table_of(TaxonConcept)


async def get(session: AsyncSession, publication_id: str) -> Publication | None:
    query = select(Publication).where(Publication.id == publication_id)
    found = await session.exec(query.execution_options(populate_existing=True))
    return found.first()


async def earlier(
    session: AsyncSession, *, publisher: str, content_sha256: str, statuses: Collection[str]
) -> Publication | None:
    """The latest publication of the same content by the same publisher in `statuses`."""
    query = (
        select(Publication)
        .where(
            Publication.publisher == publisher,
            Publication.content_sha256 == content_sha256,
            col(Publication.status).in_(sorted(statuses)),
        )
        .order_by(col(Publication.received_at).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def page(
    session: AsyncSession, *, before: tuple[datetime, str] | None, limit: int
) -> list[Publication]:
    """Newest first, keyset-paginated on (received_at, id)."""
    query = select(Publication).order_by(
        col(Publication.received_at).desc(), col(Publication.id).desc()
    )
    if before is not None:
        at, publication_id = before
        query = query.where(
            sa.or_(
                col(Publication.received_at) < at,
                sa.and_(col(Publication.received_at) == at, col(Publication.id) < publication_id),
            )
        )
    return list(await session.exec(query.limit(limit)))


async def unfinished_ids(session: AsyncSession, statuses: Collection[str]) -> list[str]:
    query = (
        select(Publication.id)
        .where(col(Publication.status).in_(sorted(statuses)))
        .order_by(col(Publication.received_at))
    )
    return list(await session.exec(query))


async def update(
    session: AsyncSession,
    publication_id: str,
    *,
    only_if: Collection[str] | None = None,
    **values: Any,
) -> None:
    """Set `values` on the publication (only while its status is in `only_if`, if given)."""
    query = sa.update(_TABLE).where(_TABLE.c.id == publication_id)
    if only_if is not None:
        query = query.where(_TABLE.c.status.in_(sorted(only_if)))
    await session.exec(query.values(**values))


async def try_lock(session: AsyncSession, publication_id: str) -> bool:
    """PostgreSQL: an advisory lock for the transaction, so one replica applies a job;
    False when another holds it. SQLite's writer already holds the database's only lock."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return True
    key = sa.func.hashtextextended(publication_id, 0)
    return bool(await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key))))


async def taxa_by_names(
    session: AsyncSession, names: Collection[str]
) -> dict[str, list[tuple[int, str, str]]]:
    """(id, full name, rank) of the taxa of each lower-cased name."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    connection = await session.connection()
    lowered = sorted({name.lower() for name in names})
    for start in range(0, len(lowered), 1000):
        query = sa.select(_TAXON.c.id, _TAXON.c.full_name, _TAXON.c.rank).where(
            sa.func.lower(_TAXON.c.full_name).in_(lowered[start : start + 1000])
        )
        for taxon_id, full_name, rank in await connection.execute(query):
            found.setdefault(full_name.lower(), []).append((taxon_id, full_name, rank))
    return found


async def taxa_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    found: dict[int, tuple[int, str, str]] = {}
    connection = await session.connection()
    unique = sorted(set(ids))
    for start in range(0, len(unique), 1000):
        query = sa.select(_TAXON.c.id, _TAXON.c.full_name, _TAXON.c.rank).where(
            _TAXON.c.id.in_(unique[start : start + 1000])
        )
        for taxon_id, full_name, rank in await connection.execute(query):
            found[taxon_id] = (taxon_id, full_name, rank)
    return found
