"""The SQL of the TAXII server. Every query of objects carries the records' access rule
(`access.repository.visible_to`) and the collection's distribution, so a page, a manifest
or a version list never holds what the caller may not read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.repository import visible_to
from intel_share.access.rules import Viewer
from intel_share.records.models import IntelRecord
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from intel_share.taxii.models import TaxiiObject, TaxiiStatus


@dataclass(frozen=True)
class StoredObject:
    """A row of `taxii_object` as pages read it (columns, no ORM instance: a page is a hot
    path, and the body stays JSON text)."""

    id: int
    object_id: str
    modified: datetime
    date_added: datetime
    record_id: str | None
    body: str


@dataclass(frozen=True)
class ObjectFilters:
    """`match[...]`, `added_after` and the page position of a TAXII request."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()
    # `last` / `first` / `all` and exact timestamps; several are OR-ed (TAXII 3.4.1).
    versions: tuple[str | datetime, ...] = ("last",)
    added_after: datetime | None = None
    after: tuple[datetime, int] | None = None  # (date_added, id) of the previous page's last


def exchanged(viewer: Viewer, distribution: ColumnElement[bool]) -> ColumnElement[bool]:
    """Objects of records that `viewer` may read and that the collection holds: never a TLP
    RED or organisation-only record (those never leave their owner), whoever asks."""
    record = IntelRecord
    return sa.or_(
        col(TaxiiObject.record_id).is_(None),
        sa.and_(
            visible_to(viewer),
            col(record.tlp) != "red",
            col(record.distribution) != "organisation",
            distribution,
        ),
    )


def community() -> ColumnElement[bool]:
    return col(IntelRecord.distribution) == "community"


def country(code: str) -> ColumnElement[bool]:
    shared_within = sa.func.coalesce(
        col(IntelRecord.distribution_country), col(IntelRecord.originator_country)
    )
    return sa.and_(col(IntelRecord.distribution) == "country", shared_within == code)


def sharing_group(group_id: str) -> ColumnElement[bool]:
    return sa.and_(
        col(IntelRecord.distribution) == "sharing_group",
        col(IntelRecord.sharing_group_id) == group_id,
    )


def _version_clause(versions: Sequence[str | datetime]) -> ColumnElement[bool] | None:
    other = sa.orm.aliased(TaxiiObject)
    same_object = col(other.object_id) == col(TaxiiObject.object_id)
    clauses: list[ColumnElement[bool]] = []
    for version in versions:
        if version == "all":
            return None
        if version in ("last", "first"):
            pick = sa.func.max if version == "last" else sa.func.min
            newest = sa.select(pick(col(other.modified))).where(same_object).scalar_subquery()
            clauses.append(col(TaxiiObject.modified) == newest)
        elif isinstance(version, datetime):
            clauses.append(col(TaxiiObject.modified) == version)
    return sa.or_(*clauses) if clauses else sa.false()


def _filtered(viewer: Viewer, distribution: ColumnElement[bool], filters: ObjectFilters) -> Any:
    o = TaxiiObject
    query = (
        sa.select(
            col(o.id),
            col(o.object_id),
            col(o.modified),
            col(o.date_added),
            col(o.record_id),
            col(o.body),
        )
        .outerjoin(IntelRecord, col(IntelRecord.id) == col(TaxiiObject.record_id))
        .where(exchanged(viewer, distribution))
    )
    if filters.ids:
        query = query.where(col(TaxiiObject.object_id).in_(filters.ids))
    if filters.types:
        query = query.where(col(TaxiiObject.object_type).in_(filters.types))
    if filters.spec_versions:
        query = query.where(col(TaxiiObject.spec_version).in_(filters.spec_versions))
    version = _version_clause(filters.versions)
    if version is not None:
        query = query.where(version)
    if filters.added_after is not None:
        query = query.where(col(TaxiiObject.date_added) > filters.added_after)
    if filters.after is not None:
        added, last_id = filters.after
        query = query.where(
            sa.or_(
                col(TaxiiObject.date_added) > added,
                sa.and_(col(TaxiiObject.date_added) == added, col(TaxiiObject.id) > last_id),
            )
        )
    return query


async def objects(
    session: AsyncSession,
    *,
    viewer: Viewer,
    distribution: ColumnElement[bool],
    filters: ObjectFilters,
    limit: int,
) -> list[StoredObject]:
    """Up to `limit` objects in the order they were added (then by row id)."""
    query = (
        _filtered(viewer, distribution, filters)
        .order_by(col(TaxiiObject.date_added), col(TaxiiObject.id))
        .limit(limit)
    )
    return [StoredObject(*row) for row in (await session.exec(query)).all()]


async def stored_versions(
    session: AsyncSession, object_ids: Sequence[str]
) -> set[tuple[str, datetime]]:
    if not object_ids:
        return set()
    query = select(TaxiiObject.object_id, TaxiiObject.modified).where(
        col(TaxiiObject.object_id).in_(object_ids)
    )
    return {(oid, modified) for oid, modified in (await session.exec(query)).all()}


def add_objects(session: AsyncSession, rows: Sequence[TaxiiObject]) -> None:
    session.add_all(rows)


async def groups_of(session: AsyncSession, viewer: Viewer) -> Sequence[SharingGroup]:
    """The sharing groups `viewer` belongs to (as its country or as its agency)."""
    member = SharingGroupMember
    query = (
        select(SharingGroup)
        .where(
            sa.select(sa.literal(1))
            .where(
                col(member.group_id) == col(SharingGroup.id),
                col(member.country) == viewer.country,
                sa.or_(col(member.agency).is_(None), col(member.agency) == viewer.agency),
            )
            .exists()
        )
        .order_by(col(SharingGroup.name))
    )
    return (await session.exec(query)).all()


async def record_types(session: AsyncSession, record_ids: Sequence[str]) -> dict[str, str]:
    """Record id -> (type, entity kind) of the records held here, for relationship targets."""
    if not record_ids:
        return {}
    query = select(IntelRecord.id, IntelRecord.type, IntelRecord.details).where(
        col(IntelRecord.id).in_(record_ids)
    )
    return {
        rid: str(details.get("kind", "")) if rtype == "entity" else "report"
        for rid, rtype, details in (await session.exec(query)).all()
    }


async def get_status(session: AsyncSession, status_id: str) -> TaxiiStatus | None:
    return await session.get(TaxiiStatus, status_id)
