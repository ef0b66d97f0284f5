"""SQL of sharing groups."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember


async def exists(session: AsyncSession, group_id: str) -> bool:
    found = await session.exec(select(SharingGroup.id).where(SharingGroup.id == group_id))
    return found.first() is not None


async def get(session: AsyncSession, group_id: str) -> SharingGroup | None:
    return await session.get(SharingGroup, group_id)


async def by_name(session: AsyncSession, name: str) -> SharingGroup | None:
    return (await session.exec(select(SharingGroup).where(SharingGroup.name == name))).first()


async def all_groups(session: AsyncSession) -> Sequence[SharingGroup]:
    return (await session.exec(select(SharingGroup).order_by(col(SharingGroup.name)))).all()


async def groups_admitting(session: AsyncSession, viewer: Viewer) -> frozenset[str]:
    """The ids of the groups `viewer` is a member of (as its country or its agency)."""
    query = select(SharingGroupMember.group_id).where(
        col(SharingGroupMember.country) == viewer.country,
        sa.or_(
            col(SharingGroupMember.agency).is_(None),
            col(SharingGroupMember.agency) == viewer.agency,
        ),
    )
    return frozenset((await session.exec(query)).all())


async def members_of(
    session: AsyncSession, group_ids: Sequence[str]
) -> dict[str, list[SharingGroupMember]]:
    found: dict[str, list[SharingGroupMember]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return found
    query = (
        select(SharingGroupMember)
        .where(col(SharingGroupMember.group_id).in_(group_ids))
        .order_by(col(SharingGroupMember.id))
    )
    for member in (await session.exec(query)).all():
        found[member.group_id].append(member)
    return found


async def replace_members(
    session: AsyncSession, group_id: str, members: Sequence[tuple[str, str | None]]
) -> None:
    await session.exec(
        delete(SharingGroupMember).where(col(SharingGroupMember.group_id) == group_id)
    )
    session.add_all(
        SharingGroupMember(group_id=group_id, country=country, agency=agency)
        for country, agency in dict.fromkeys(members)
    )
    await session.flush()
