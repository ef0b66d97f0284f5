"""SQL of targeting profiles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.profiles.models import TargetingProfile, TargetingProfileVersion


async def current(session: AsyncSession, profile_id: str) -> TargetingProfileVersion | None:
    query = (
        select(TargetingProfileVersion)
        .join(
            TargetingProfile,
            (col(TargetingProfile.id) == col(TargetingProfileVersion.profile_id))
            & (col(TargetingProfile.current_version) == col(TargetingProfileVersion.version)),
        )
        .where(col(TargetingProfile.id) == profile_id)
    )
    return (await session.exec(query)).first()


async def version(
    session: AsyncSession, profile_id: str, number: int
) -> TargetingProfileVersion | None:
    return await session.get(TargetingProfileVersion, (profile_id, number))


async def versions(session: AsyncSession, profile_id: str) -> Sequence[TargetingProfileVersion]:
    query = (
        select(TargetingProfileVersion)
        .where(col(TargetingProfileVersion.profile_id) == profile_id)
        .order_by(col(TargetingProfileVersion.version))
    )
    return (await session.exec(query)).all()


async def page(
    session: AsyncSession, *, after: str | None, limit: int, status: str | None
) -> Sequence[TargetingProfileVersion]:
    """Current versions ordered by profile id (keyset pagination)."""
    query = select(TargetingProfileVersion).join(
        TargetingProfile,
        (col(TargetingProfile.id) == col(TargetingProfileVersion.profile_id))
        & (col(TargetingProfile.current_version) == col(TargetingProfileVersion.version)),
    )
    if after is not None:
        query = query.where(col(TargetingProfileVersion.profile_id) > after)
    if status is not None:
        query = query.where(col(TargetingProfileVersion.status) == status)
    query = query.order_by(col(TargetingProfileVersion.profile_id)).limit(limit)
    return (await session.exec(query)).all()


async def all_current(session: AsyncSession) -> Sequence[TargetingProfileVersion]:
    query = select(TargetingProfileVersion).join(
        TargetingProfile,
        (col(TargetingProfile.id) == col(TargetingProfileVersion.profile_id))
        & (col(TargetingProfile.current_version) == col(TargetingProfileVersion.version)),
    )
    return (await session.exec(query)).all()


async def add_version(
    session: AsyncSession, row: TargetingProfileVersion, *, new_profile: bool
) -> None:
    if new_profile:
        session.add(
            TargetingProfile(
                id=row.profile_id, current_version=row.version, created_at=row.created_at
            )
        )
        await session.flush()
    else:
        head = await session.get(TargetingProfile, row.profile_id)
        assert head is not None
        head.current_version = row.version
        session.add(head)
    session.add(row)
    await session.flush()
