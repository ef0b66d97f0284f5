"""Writing a record version's STIX objects into `taxii_object`, in the unit of work that
stores the version (`records.service.save_version` calls `project`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.records.schemas import RecordOut
from intel_share.sightings.models import Sighting
from intel_share.stix.mapping import entity_stix_type, sighting_to_stix, to_stix
from intel_share.stix.markings import common_objects
from intel_share.taxii import repository
from intel_share.taxii.models import TaxiiObject


def _version(obj: dict[str, Any]) -> datetime:
    stamp = str(obj.get("modified") or obj["created"])
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


async def store(
    session: AsyncSession,
    objects: list[dict[str, Any]],
    *,
    record_id: str | None,
    now: datetime | None = None,
) -> int:
    """Add the object versions not stored yet; returns how many were added."""
    added_at = now or datetime.now(UTC)
    stored = await repository.stored_versions(session, list({o["id"] for o in objects}))
    held = {_naive(key) for key in stored}
    rows: list[TaxiiObject] = []
    for obj in objects:
        key = (obj["id"], _version(obj))
        if _naive(key) in held:
            continue
        held.add(_naive(key))
        rows.append(
            TaxiiObject(
                object_id=obj["id"],
                object_type=obj["type"],
                spec_version=obj.get("spec_version", "2.1"),
                modified=key[1],
                date_added=added_at,
                record_id=record_id,
                body=json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
            )
        )
    repository.add_objects(session, rows)
    return len(rows)


def _naive(key: tuple[str, datetime]) -> tuple[str, datetime]:
    # SQLite gives times back without their zone: compare them all as naive UTC.
    oid, moment = key
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return oid, moment


async def project(session: AsyncSession, record: RecordOut) -> None:
    """Store the STIX objects of `record`'s current version (and the shared objects)."""
    targets = [r.target_id for r in record.relationships]
    known = {
        rid: "report" if kind == "report" else entity_stix_type(kind)
        for rid, kind in (await repository.record_types(session, targets)).items()
    }
    mapped = to_stix(record, known_types=known)
    now = datetime.now(UTC)
    await store(session, [*common_objects(), *mapped.common], record_id=None, now=now)
    await store(session, mapped.own, record_id=record.id, now=now)


async def project_sighting(session: AsyncSession, sighting: Sighting, record: RecordOut) -> None:
    """Store a sighting's STIX `sighting` (it follows its record's access rule) and the
    identity or location it names."""
    sighting_object, where = sighting_to_stix(sighting, record)
    now = datetime.now(UTC)
    await store(session, [where], record_id=None, now=now)
    await store(session, [sighting_object], record_id=record.id, now=now)
