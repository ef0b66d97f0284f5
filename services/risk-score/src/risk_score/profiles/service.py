"""The rules of targeting profiles: every change writes the next immutable version, whose
criteria compile before anything is stored; the active set in memory follows the commit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import InvalidInput, NotFound, field_path
from pangolin_core.identity import Caller
from pangolin_core.pagination import decode_cursor, encode_cursor
from risk_score.audit import repository as audit
from risk_score.profiles import repository
from risk_score.profiles.active import ActiveProfiles, compile_version
from risk_score.profiles.models import TargetingProfileVersion
from risk_score.profiles.schemas import ProfileIn, ProfileOut, ProfilePage, ProfilePatch
from risk_score.readmodels import after_commit, bump

PROFILES = "profiles"


class ProfileNotFound(NotFound):
    code, title = "profile_not_found", "No such targeting profile"


def to_out(row: TargetingProfileVersion) -> ProfileOut:
    return ProfileOut.model_validate({**row.model_dump(), "id": row.profile_id})


async def _store(
    *,
    session: AsyncSession,
    active: ActiveProfiles,
    profile_id: str,
    number: int,
    body: ProfileIn,
    caller: Caller,
) -> ProfileOut:
    row = TargetingProfileVersion(
        profile_id=profile_id,
        version=number,
        **body.model_dump(mode="python"),
        created_at=datetime.now(UTC),
        created_by=caller.client_id,
    )
    compiled = compile_version(row)  # refuses bad criteria (422) before anything is written
    await repository.add_version(session, row, new_profile=number == 1)
    audit.record(
        session,
        action="profile_version_created",
        object_type="profile",
        object_id=profile_id,
        caller=caller,
        details={"version": number, "status": body.status},
    )
    await bump(session, PROFILES)
    held = compiled if body.status == "active" else None
    after_commit(session, lambda: active.put(profile_id, held))
    return to_out(row)


async def create(
    *, session: AsyncSession, active: ActiveProfiles, body: ProfileIn, caller: Caller
) -> ProfileOut:
    return await _store(
        session=session, active=active, profile_id=str(uuid4()), number=1, body=body, caller=caller
    )


async def _current(session: AsyncSession, profile_id: str) -> TargetingProfileVersion:
    row = await repository.current(session, profile_id)
    if row is None:
        raise ProfileNotFound(f"No targeting profile {profile_id}.")
    return row


async def replace(
    *,
    session: AsyncSession,
    active: ActiveProfiles,
    profile_id: str,
    body: ProfileIn,
    caller: Caller,
) -> ProfileOut:
    row = await _current(session, profile_id)
    return await _store(
        session=session,
        active=active,
        profile_id=profile_id,
        number=row.version + 1,
        body=body,
        caller=caller,
    )


async def amend(
    *,
    session: AsyncSession,
    active: ActiveProfiles,
    profile_id: str,
    changes: dict[str, Any],
    caller: Caller,
) -> ProfileOut:
    """`changes`: the fields of a `ProfilePatch` that were given."""
    row = await _current(session, profile_id)
    merged = {name: getattr(row, name) for name in ProfileIn.model_fields} | changes
    try:
        body = ProfileIn.model_validate(merged)
    except ValidationError as exc:
        errors = [{"field": field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise InvalidInput("The amended profile is not valid.", errors=errors) from exc
    return await _store(
        session=session,
        active=active,
        profile_id=profile_id,
        number=row.version + 1,
        body=body,
        caller=caller,
    )


def patch_changes(patch: ProfilePatch) -> dict[str, Any]:
    return patch.model_dump(exclude_unset=True)


async def read(*, session: AsyncSession, profile_id: str, version: int | None = None) -> ProfileOut:
    if version is None:
        return to_out(await _current(session, profile_id))
    row = await repository.version(session, profile_id, version)
    if row is None:
        raise ProfileNotFound(f"No version {version} of targeting profile {profile_id}.")
    return to_out(row)


async def history(*, session: AsyncSession, profile_id: str) -> list[ProfileOut]:
    rows = await repository.versions(session, profile_id)
    if not rows:
        raise ProfileNotFound(f"No targeting profile {profile_id}.")
    return [to_out(r) for r in rows]


async def listing(
    *, session: AsyncSession, limit: int, cursor: str | None, status: str | None
) -> ProfilePage:
    after = str(decode_cursor(cursor).get("id")) if cursor else None
    rows = await repository.page(session, after=after, limit=limit + 1, status=status)
    items = [to_out(r) for r in rows[:limit]]
    more = len(rows) > limit
    return ProfilePage(items=items, next=encode_cursor({"id": items[-1].id}) if more else None)
