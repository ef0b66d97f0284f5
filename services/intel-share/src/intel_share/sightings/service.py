"""Sightings: whoever sees a record may say it was seen here too. An anonymous sighting names
its country and office but not the agency that reported it, to anyone but that agency
(the record's originator included: it learns that, not who)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.audit import service as audit
from intel_share.audit.schemas import AuditAction
from intel_share.audit.service import utc
from intel_share.records.service import record_out, visible_record
from intel_share.sightings import repository
from intel_share.sightings.models import Sighting
from intel_share.sightings.schemas import SightingIn, SightingList, SightingOut
from intel_share.taxii import projection as taxii_projection
from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller


def sighting_out(sighting: Sighting, viewer: Viewer) -> SightingOut:
    own = (viewer.country, viewer.agency) == (sighting.agency_country, sighting.agency)
    named = own or not sighting.anonymous
    return SightingOut(
        id=sighting.id,
        record_id=sighting.record_id,
        country=sighting.country,
        office=sighting.office,
        seen_on=sighting.seen_on,
        note=sighting.note,
        anonymous=sighting.anonymous,
        agency=sighting.agency if named else None,
        agency_country=sighting.agency_country if named else None,
        created_at=utc(sighting.created_at),
    )


async def add(
    *,
    session: AsyncSession,
    record_id: str,
    request: SightingIn,
    caller: Caller,
    codes: CodeLists,
) -> SightingOut:
    codes.require_country(request.country)
    now = datetime.now(UTC)
    if request.seen_on > now.date():
        raise InvalidInput(
            "A sighting is not in the future.",
            errors=[{"field": "seen_on", "message": "in the future", "type": "value_error"}],
        )
    record = await visible_record(session, record_id, caller)
    viewer = Viewer.of(caller)
    sighting = Sighting(
        id=str(uuid4()),
        record_id=record.id,
        country=request.country,
        office=request.office,
        seen_on=request.seen_on,
        note=request.note,
        agency=viewer.agency,
        agency_country=viewer.country,
        client_id=caller.client_id,
        anonymous=request.anonymous,
        created_at=now,
    )
    session.add(sighting)
    await taxii_projection.project_sighting(session, sighting, record_out(record, [], viewer=None))
    await audit.record(
        session=session,
        action=AuditAction.SIGHTED,
        caller=caller,
        record_ids=[record.id],
        query={"sighting_id": sighting.id, "anonymous": sighting.anonymous},
        at=now,
    )
    return sighting_out(sighting, viewer)


async def list_of(*, session: AsyncSession, record_id: str, caller: Caller) -> SightingList:
    record = await visible_record(session, record_id, caller)
    viewer = Viewer.of(caller)
    sightings = await repository.of_record(session, record.id)
    await audit.record(
        session=session,
        action=AuditAction.READ,
        caller=caller,
        record_ids=[record.id],
        query={"sightings": True},
    )
    return SightingList(record_id=record.id, sightings=[sighting_out(s, viewer) for s in sightings])
