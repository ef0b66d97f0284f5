"""`/v1/risk/profiles`: targeting profiles, each change a new version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_scope
from pangolin_core.pagination import MAX_LIMIT
from risk_score.dependencies import RiskStateDep
from risk_score.profiles import service
from risk_score.profiles.schemas import (
    ProfileIn,
    ProfileOut,
    ProfilePage,
    ProfilePatch,
    ProfileStatus,
    StatusChange,
)

router = APIRouter(prefix="/v1/risk/profiles", tags=["profiles"])

Editor = Annotated[Caller, Depends(requires_scope("risk:profiles"))]
Reader = Annotated[Caller, Depends(requires_scope("risk:read"))]
ProfileId = Annotated[str, Path(max_length=36, description="The profile's id")]


@router.post("", status_code=201, summary="Create a targeting profile (version 1)")
async def create_profile(
    body: ProfileIn, session: SessionDep, state: RiskStateDep, caller: Editor
) -> ProfileOut:
    return await service.create(session=session, active=state.profiles, body=body, caller=caller)


@router.get("", summary="Targeting profiles (current versions), by id")
async def list_profiles(
    session: SessionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    status: ProfileStatus | None = None,
) -> ProfilePage:
    return await service.listing(session=session, limit=limit, cursor=cursor, status=status)


@router.get("/{profile_id}", summary="A profile's current version (or `?version=`)")
async def get_profile(
    profile_id: ProfileId,
    session: SessionDep,
    _: Reader,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> ProfileOut:
    return await service.read(session=session, profile_id=profile_id, version=version)


@router.get("/{profile_id}/versions", summary="Every version of a profile, oldest first")
async def profile_versions(
    profile_id: ProfileId, session: SessionDep, _: Reader
) -> list[ProfileOut]:
    return await service.history(session=session, profile_id=profile_id)


@router.put("/{profile_id}", summary="Replace a profile: writes its next version")
async def replace_profile(
    profile_id: ProfileId, body: ProfileIn, session: SessionDep, state: RiskStateDep, caller: Editor
) -> ProfileOut:
    return await service.replace(
        session=session, active=state.profiles, profile_id=profile_id, body=body, caller=caller
    )


@router.patch("/{profile_id}", summary="Change some fields: writes the next version")
async def amend_profile(
    profile_id: ProfileId,
    body: ProfilePatch,
    session: SessionDep,
    state: RiskStateDep,
    caller: Editor,
) -> ProfileOut:
    return await service.amend(
        session=session,
        active=state.profiles,
        profile_id=profile_id,
        changes=service.patch_changes(body),
        caller=caller,
    )


@router.post("/{profile_id}/status", summary="Activate, retire or draft: writes the next version")
async def change_status(
    profile_id: ProfileId,
    body: StatusChange,
    session: SessionDep,
    state: RiskStateDep,
    caller: Editor,
) -> ProfileOut:
    return await service.amend(
        session=session,
        active=state.profiles,
        profile_id=profile_id,
        changes={"status": body.status},
        caller=caller,
    )
