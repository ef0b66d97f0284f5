"""`/v1/intel/sharing-groups`: named groups of countries and agencies records are shared with."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from intel_share.dependencies import CodeListsDep
from intel_share.sharing_groups import service
from intel_share.sharing_groups.schemas import (
    MembersIn,
    SharingGroupIn,
    SharingGroupList,
    SharingGroupOut,
)
from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_any_scope

router = APIRouter(prefix="/v1/intel/sharing-groups", tags=["intel sharing groups"])

Manager = Annotated[Caller, Depends(requires_any_scope("intel:write", "admin"))]
Reader = Annotated[Caller, Depends(requires_any_scope("intel:read", "admin"))]


@router.post("", status_code=201, summary="Create a sharing group with its members")
async def create_group(
    body: SharingGroupIn, session: SessionDep, caller: Manager, codes: CodeListsDep
) -> SharingGroupOut:
    return await service.create(session=session, request=body, caller=caller, codes=codes)


@router.get("", summary="Every sharing group")
async def list_groups(session: SessionDep, _: Reader) -> SharingGroupList:
    return await service.list_groups(session=session)


@router.get("/{group_id}", summary="A sharing group and its members")
async def get_group(group_id: UUID, session: SessionDep, _: Reader) -> SharingGroupOut:
    return await service.read(session=session, group_id=str(group_id))


@router.put("/{group_id}/members", summary="Replace a sharing group's members")
async def put_members(
    group_id: UUID, body: MembersIn, session: SessionDep, caller: Manager, codes: CodeListsDep
) -> SharingGroupOut:
    return await service.replace_members(
        session=session, group_id=str(group_id), members=body.members, caller=caller, codes=codes
    )
