"""Managing sharing groups. A client with `intel:write` (or an admin) creates one; its
organisation owns it, and only that organisation or an admin changes its members (else a
partner could add itself to a group to read its records). A group's members are countries, or
agencies of a country; a record distributed to a group is visible to them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import GroupMember, Viewer
from intel_share.audit.service import utc
from intel_share.errors import SharingGroupNameTaken
from intel_share.sharing_groups import repository
from intel_share.sharing_groups.models import SharingGroup, SharingGroupMember
from intel_share.sharing_groups.schemas import (
    MemberIn,
    SharingGroupIn,
    SharingGroupList,
    SharingGroupOut,
)
from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
from pangolin_core.errors import Forbidden, InvalidInput, NotFound
from pangolin_core.identity import Caller


def _check_countries(members: list[MemberIn], codes: CodeLists) -> None:
    errors = [
        {"field": f"members[{i}].country", "message": "unknown country code", "type": "code"}
        for i, member in enumerate(members)
        if not codes.is_valid(CodeListName.COUNTRIES, member.country)
    ]
    if errors:
        raise InvalidInput("A member's country is not a CITES country code.", errors=errors)


def _out(group: SharingGroup, members: list[SharingGroupMember]) -> SharingGroupOut:
    return SharingGroupOut(
        id=group.id,
        name=group.name,
        description=group.description,
        members=[MemberIn(country=m.country, agency=m.agency) for m in members],
        owner_country=group.owner_country,
        owner_agency=group.owner_agency,
        created_by=group.created_by,
        created_at=utc(group.created_at),
    )


def group_members(members: list[SharingGroupMember]) -> frozenset[GroupMember]:
    """The members as the access rule's predicate reads them."""
    return frozenset(GroupMember(country=m.country, agency=m.agency) for m in members)


async def create(
    *, session: AsyncSession, request: SharingGroupIn, caller: Caller, codes: CodeLists
) -> SharingGroupOut:
    _check_countries(request.members, codes)
    if await repository.by_name(session, request.name) is not None:
        raise SharingGroupNameTaken(f"A sharing group named {request.name!r} exists.")
    owner = Viewer.of(caller)
    group = SharingGroup(
        id=str(uuid4()),
        name=request.name,
        description=request.description,
        owner_country=owner.country,
        owner_agency=owner.agency,
        created_by=caller.client_id,
        created_at=datetime.now(UTC),
    )
    session.add(group)
    await session.flush()
    await repository.replace_members(
        session, group.id, [(m.country, m.agency) for m in request.members]
    )
    members = await repository.members_of(session, [group.id])
    return _out(group, members[group.id])


async def replace_members(
    *,
    session: AsyncSession,
    group_id: str,
    members: list[MemberIn],
    caller: Caller,
    codes: CodeLists,
) -> SharingGroupOut:
    _check_countries(members, codes)
    group = await repository.get(session, group_id)
    if group is None:
        raise NotFound(f"No sharing group {group_id}.")
    manager = Viewer.of(caller)
    if not caller.has_scope("admin") and (manager.country, manager.agency) != (
        group.owner_country,
        group.owner_agency,
    ):
        raise Forbidden(
            f"Only the group's owner ({group.owner_agency}, {group.owner_country}) or an admin"
            " changes its members."
        )
    await repository.replace_members(session, group_id, [(m.country, m.agency) for m in members])
    found = await repository.members_of(session, [group_id])
    return _out(group, found[group_id])


async def read(*, session: AsyncSession, group_id: str) -> SharingGroupOut:
    group = await repository.get(session, group_id)
    if group is None:
        raise NotFound(f"No sharing group {group_id}.")
    members = await repository.members_of(session, [group_id])
    return _out(group, members[group_id])


async def list_groups(*, session: AsyncSession) -> SharingGroupList:
    groups = await repository.all_groups(session)
    members = await repository.members_of(session, [g.id for g in groups])
    return SharingGroupList(sharing_groups=[_out(g, members[g.id]) for g in groups])
