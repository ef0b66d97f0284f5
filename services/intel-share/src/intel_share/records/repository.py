"""SQL of intelligence records. Every read of records carries the access clause
(`access.repository.visible_to`): nothing is fetched that the caller may not see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.repository import visible_to
from intel_share.access.rules import Viewer
from intel_share.records.models import (
    IntelRecord,
    IntelRecordFacet,
    IntelRecordVersion,
    IntelRelationship,
)
from intel_share.records.schemas import RecordSearch


@dataclass(frozen=True)
class Position:
    """Where a page of a search ends: newest first, by (created_at, id)."""

    created_at: datetime
    id: str


async def get_visible(
    session: AsyncSession, record_id: str, viewer: Viewer, *, for_update: bool = False
) -> IntelRecord | None:
    query = select(IntelRecord).where(IntelRecord.id == record_id, visible_to(viewer))
    if for_update:
        query = query.with_for_update(of=IntelRecord)
    return (await session.exec(query)).first()


async def exists(session: AsyncSession, record_id: str) -> bool:
    """Whether any record has this id, visible or not (an id must stay unique)."""
    found = await session.exec(select(IntelRecord.id).where(IntelRecord.id == record_id))
    return found.first() is not None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_facet(facet: str, value: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        sa.select(sa.literal(1))
        .where(
            col(IntelRecordFacet.record_id) == col(IntelRecord.id),
            col(IntelRecordFacet.facet) == facet,
            value,
        )
        .exists()
    )


def search_filters(viewer: Viewer, search: RecordSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search: the access rule first, then the caller's filters."""
    clauses: list[ColumnElement[bool]] = [visible_to(viewer)]
    if search.type is not None:
        clauses.append(col(IntelRecord.type) == search.type)
    if search.species:
        name = search.species.strip().lower()
        value = col(IntelRecordFacet.value)
        # "Loxodonta" finds "loxodonta africana": a genus finds its species
        clauses.append(
            _has_facet(
                "species",
                sa.or_(value == name, value.like(_escape_like(name) + " %", escape="\\")),
            )
        )
    if search.country:
        clauses.append(_has_facet("country", col(IntelRecordFacet.value) == search.country.upper()))
    if search.entity:
        clauses.append(_has_facet("entity", col(IntelRecordFacet.value) == search.entity.lower()))
    if search.text:
        pattern = "%" + _escape_like(search.text.strip().lower()) + "%"
        clauses.append(col(IntelRecord.search_text).like(pattern, escape="\\"))
    if search.since is not None or search.until is not None:
        if search.time_field == "event":
            on = col(IntelRecord.event_on)
            if search.since is not None:
                clauses.append(on >= search.since.date())
            if search.until is not None:
                clauses.append(on < search.until.date())
        else:
            at = col(
                IntelRecord.created_at if search.time_field == "created" else IntelRecord.updated_at
            )
            if search.since is not None:
                clauses.append(at >= search.since)
            if search.until is not None:
                clauses.append(at < search.until)
    if not search.include_revoked:
        clauses.append(col(IntelRecord.revoked).is_(False))
    return clauses


async def search(
    session: AsyncSession,
    *,
    viewer: Viewer,
    search: RecordSearch,
    after: Position | None,
    limit: int,
) -> Sequence[IntelRecord]:
    query = select(IntelRecord).where(*search_filters(viewer, search))
    if after is not None:
        created = col(IntelRecord.created_at)
        query = query.where(
            sa.or_(
                created < after.created_at,
                sa.and_(created == after.created_at, col(IntelRecord.id) < after.id),
            )
        )
    query = query.order_by(col(IntelRecord.created_at).desc(), col(IntelRecord.id).desc())
    return (await session.exec(query.limit(limit))).all()


async def count(session: AsyncSession, *, viewer: Viewer, search: RecordSearch) -> int:
    query = select(sa.func.count()).select_from(IntelRecord).where(*search_filters(viewer, search))
    return int((await session.exec(query)).one())


async def count_visible(session: AsyncSession, viewer: Viewer) -> int:
    query = select(sa.func.count()).select_from(IntelRecord).where(visible_to(viewer))
    return int((await session.exec(query)).one())


async def relationships_of(
    session: AsyncSession, record_ids: Sequence[str]
) -> dict[str, list[IntelRelationship]]:
    found: dict[str, list[IntelRelationship]] = {record_id: [] for record_id in record_ids}
    if not record_ids:
        return found
    query = (
        select(IntelRelationship)
        .where(col(IntelRelationship.source_id).in_(record_ids))
        .order_by(col(IntelRelationship.id))
    )
    for relationship in (await session.exec(query)).all():
        found[relationship.source_id].append(relationship)
    return found


async def replace_links(
    session: AsyncSession,
    *,
    record_id: str,
    facets: list[tuple[str, str]],
    relationships: list[IntelRelationship],
) -> None:
    """Replace a record's search facets and relationships with those of its new version."""
    await session.exec(delete(IntelRecordFacet).where(col(IntelRecordFacet.record_id) == record_id))
    await session.exec(
        delete(IntelRelationship).where(col(IntelRelationship.source_id) == record_id)
    )
    session.add_all(
        IntelRecordFacet(record_id=record_id, facet=facet, value=value) for facet, value in facets
    )
    session.add_all(relationships)


async def versions_of(session: AsyncSession, record_id: str) -> Sequence[IntelRecordVersion]:
    query = (
        select(IntelRecordVersion)
        .where(IntelRecordVersion.record_id == record_id)
        .order_by(col(IntelRecordVersion.version))
    )
    return (await session.exec(query)).all()


def current_on(today: date) -> ColumnElement[bool]:
    """Records in force on `today`: not revoked, not past their expiry date."""
    return sa.and_(
        col(IntelRecord.revoked).is_(False),
        sa.or_(col(IntelRecord.expires_on).is_(None), col(IntelRecord.expires_on) >= today),
    )


async def current_entities(
    session: AsyncSession, *, today: date, record_id: str | None = None
) -> Sequence[IntelRecord]:
    """Entity records in force on `today` (all of them, or the one `record_id`), whatever
    their distribution: whoever reads them applies the access rule."""
    query = select(IntelRecord).where(col(IntelRecord.type) == "entity", current_on(today))
    if record_id is not None:
        query = query.where(col(IntelRecord.id) == record_id)
    return (await session.exec(query.order_by(col(IntelRecord.id)))).all()


async def expired_unannounced(session: AsyncSession, *, today: date) -> Sequence[IntelRecord]:
    """Records past their expiry (`expires_on` before `today`, not revoked) whose current
    version's expiry has not been announced yet."""
    announced = col(IntelRecord.watchlist_expired_version)
    query = select(IntelRecord).where(
        col(IntelRecord.revoked).is_(False),
        col(IntelRecord.expires_on) < today,
        sa.or_(announced.is_(None), announced != col(IntelRecord.version)),
    )
    return (await session.exec(query.order_by(col(IntelRecord.id)))).all()


async def mark_expiry_announced(session: AsyncSession, record: IntelRecord) -> bool:
    """Mark `record`'s version as announced; False when another replica did it first (or the
    record changed meanwhile): then this one announces nothing."""
    announced = col(IntelRecord.watchlist_expired_version)
    result = await session.exec(
        sa.update(IntelRecord)
        .where(
            col(IntelRecord.id) == record.id,
            col(IntelRecord.version) == record.version,
            col(IntelRecord.revoked).is_(False),
            sa.or_(announced.is_(None), announced != record.version),
        )
        .values(watchlist_expired_version=record.version)
    )
    return bool(result.rowcount == 1)
