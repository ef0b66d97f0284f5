"""`/v1/species/sync`: where the Species+ sync stands (GET), and a run now (POST). An operator
concern (the Species+ token, its rate limits, the lease holder's host): scope `admin`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from pangolin_core.db import SessionDep
from pangolin_core.errors import Conflict
from pangolin_core.identity import Caller, requires_scope
from species_ref.settings import SpeciesRefSettings
from species_ref.speciesplus import repository
from species_ref.speciesplus.schedule import SCHEDULE_KEY, SyncSchedule
from species_ref.speciesplus.schemas import SyncLease, SyncRequested, SyncState

router = APIRouter(prefix="/v1/species/sync", tags=["speciesplus"])

Operator = Annotated[Caller, Depends(requires_scope("admin"))]


def _settings(request: Request) -> SpeciesRefSettings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, SpeciesRefSettings)
    return settings


Settings = Annotated[SpeciesRefSettings, Depends(_settings)]


@router.get("", summary="Where the Species+ sync stands: last run, next increment, lease")
async def get_sync(session: SessionDep, _: Operator, settings: Settings) -> SyncState:
    state = await repository.sync_state(session)
    lease = None
    if state.lease_owner is not None:
        active = state.lease_until is not None and state.lease_until > datetime.now(UTC)
        lease = SyncLease(owner=state.lease_owner, until=state.lease_until, active=active)
    return SyncState(
        enabled=settings.speciesplus_sync_enabled,
        interval_seconds=settings.speciesplus_sync_interval_seconds,
        updated_since=state.updated_since,
        resume_page=state.resume_page,
        last_started_at=state.last_started_at,
        last_finished_at=state.last_finished_at,
        lease=lease,
        last_summary=state.last_summary or {},
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run the Species+ sync now (on this replica's schedule; skipped if one is running)",
)
async def post_sync(request: Request, _: Operator) -> SyncRequested:
    schedule: SyncSchedule | None = request.app.state.runtime.extras.get(SCHEDULE_KEY)
    if schedule is None:
        raise Conflict(
            "The Species+ sync is not enabled on this service "
            "(PANGOLIN_SPECIES_REF_SPECIESPLUS_SYNC_ENABLED); run `pangolin species sync`."
        )
    schedule.wake()
    return SyncRequested(detail="The sync runs now unless a run holds the lease; see GET.")
