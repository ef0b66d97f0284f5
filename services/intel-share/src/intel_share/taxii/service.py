"""The rules of the TAXII server: which collections a caller has, pages of objects, adding
objects (each record by `federation.intake`), status resources.

Collections are the distributions a caller may read: `community` (every partner), `country`
(the caller's country) and each sharing group the caller's country or agency belongs to.
Organisation-only and TLP RED records are in none: TAXII is for exchange, and those never
leave their owner. Every read of objects is audited (`exported`, the records it touched).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer
from intel_share.audit import service as audit
from intel_share.audit.schemas import AuditAction
from intel_share.federation.intake import Received, Sender, receive
from intel_share.stix.mapping import StixMappingError, from_stix, parse_object, record_properties
from intel_share.taxii import repository
from intel_share.taxii.models import TaxiiStatus
from intel_share.taxii.repository import ObjectFilters, StoredObject
from intel_share.taxii.schemas import (
    Collection,
    ManifestRecord,
    Status,
    StatusDetail,
    taxii_timestamp,
)
from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.errors import BadRequest, NotFound
from pangolin_core.identity import Caller
from pangolin_core.pagination import decode_cursor, encode_cursor

_NAMESPACE = uuid.UUID("9b8e0f61-2c4d-4f7a-a1e3-5d6c7b8a9f02")
COMMUNITY_ID = str(uuid.uuid5(_NAMESPACE, "community"))
READ_SCOPES = ("intel:read", "intel:federate")
WRITE_SCOPES = ("intel:write", "intel:federate")


class CollectionNotFound(NotFound):
    code, title = "collection_not_found", "No such TAXII collection"


class ObjectNotFound(NotFound):
    code, title = "object_not_found", "No such STIX object in this collection"


class StatusNotFound(NotFound):
    code, title = "status_not_found", "No such TAXII status resource"


def country_collection_id(country: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"country:{country}"))


def can_write(caller: Caller) -> bool:
    return any(caller.has_scope(s) for s in WRITE_SCOPES)


@dataclass(frozen=True)
class CollectionView:
    """A collection as one caller has it: its description and the distribution it holds."""

    info: Collection
    distribution: ColumnElement[bool]


async def collections(*, session: AsyncSession, caller: Caller) -> list[CollectionView]:
    viewer = Viewer.of(caller)
    writable = can_write(caller)
    views = [
        CollectionView(
            Collection(
                id=COMMUNITY_ID,
                title="Community",
                alias="community",
                description="Records shared with every partner country (`community`).",
                can_read=True,
                can_write=writable,
            ),
            repository.community(),
        ),
        CollectionView(
            Collection(
                id=country_collection_id(viewer.country),
                title=f"Country {viewer.country}",
                alias=f"country-{viewer.country.lower()}",
                description=f"Records shared within {viewer.country} (`country`).",
                can_read=True,
                can_write=writable,
            ),
            repository.country(viewer.country),
        ),
    ]
    for group in await repository.groups_of(session, viewer):
        views.append(
            CollectionView(
                Collection(
                    id=group.id,
                    title=f"Sharing group {group.name}",
                    description=group.description,
                    can_read=True,
                    can_write=writable,
                ),
                repository.sharing_group(group.id),
            )
        )
    return views


async def collection(
    *, session: AsyncSession, caller: Caller, collection_id: str
) -> CollectionView:
    for view in await collections(session=session, caller=caller):
        if view.info.id == collection_id:
            return view
    raise CollectionNotFound(f"No collection {collection_id} that you may read.")


def _timestamp(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"{name}: {value!r} is not a timestamp.") from exc
    if moment.tzinfo is None:
        raise BadRequest(f"{name}: {value!r} has no time zone (use Z).")
    return moment.astimezone(UTC)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def filters_of(
    *,
    added_after: str | None,
    match_id: str | None,
    match_type: str | None,
    match_version: str | None,
    match_spec_version: str | None,
    next_cursor: str | None,
    default_version: str = "last",
) -> ObjectFilters:
    """The request's filters (TAXII 3.4), checked: a bad value is a 400, never a 500."""
    versions: list[str | datetime] = []
    for v in _split(match_version) or (default_version,):
        versions.append(v if v in ("last", "first", "all") else _timestamp(v, "match[version]"))
    after = None
    if next_cursor:
        position = decode_cursor(next_cursor)
        try:
            after = (_timestamp(str(position["t"]), "next"), int(position["i"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise BadRequest("next: pass back the `next` of a page.") from exc
    return ObjectFilters(
        ids=_split(match_id),
        types=_split(match_type),
        spec_versions=_split(match_spec_version),
        versions=tuple(versions),
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        after=after,
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    rows: list[StoredObject]
    more: bool
    next: str | None

    @property
    def first_added(self) -> str | None:
        return taxii_timestamp(_utc(self.rows[0].date_added)) if self.rows else None

    @property
    def last_added(self) -> str | None:
        return taxii_timestamp(_utc(self.rows[-1].date_added)) if self.rows else None


async def page(
    *,
    session: AsyncSession,
    caller: Caller,
    collection_id: str,
    filters: ObjectFilters,
    limit: int,
    action: str,
) -> Page:
    """A page of a collection's objects (or manifest, or versions), audited."""
    view = await collection(session=session, caller=caller, collection_id=collection_id)
    rows = await repository.objects(
        session,
        viewer=Viewer.of(caller),
        distribution=view.distribution,
        filters=filters,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    cursor = (
        encode_cursor({"t": _utc(last.date_added).isoformat(), "i": last.id})
        if more and last is not None
        else None
    )
    record_ids = list(dict.fromkeys(r.record_id for r in rows if r.record_id))
    await audit.record(
        session=session,
        action=AuditAction.EXPORTED,
        caller=caller,
        record_ids=record_ids,
        query={"taxii": action, "collection": collection_id, "limit": limit, **_query(filters)},
    )
    return Page(rows=rows, more=more, next=cursor)


def _query(filters: ObjectFilters) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if filters.ids:
        query["match[id]"] = list(filters.ids)
    if filters.types:
        query["match[type]"] = list(filters.types)
    query["match[version]"] = [v if isinstance(v, str) else v.isoformat() for v in filters.versions]
    if filters.added_after:
        query["added_after"] = filters.added_after.isoformat()
    return query


def manifest_of(row: StoredObject) -> ManifestRecord:
    return ManifestRecord(
        id=row.object_id,
        date_added=taxii_timestamp(_utc(row.date_added)),
        version=taxii_timestamp(_utc(row.modified)),
    )


def _version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


async def add_objects(
    *,
    session: AsyncSession,
    caller: Caller,
    collection_id: str,
    objects: list[dict[str, Any]],
    home_country: str,
    codes: CodeLists,
) -> Status:
    """Add the Pangolin records among `objects` (TAXII 5.5); answers a complete status.

    Each object succeeds or fails with its record: a record refused (not the sender's to
    hand over, RED, organisation-only, unreadable) fails all its objects; a version held
    already succeeds ("ignored"). Shared objects (markings, identities, locations, the
    extension-definitions) succeed as they are regenerated here; other STIX fails."""
    await collection(session=session, caller=caller, collection_id=collection_id)
    viewer = Viewer.of(caller)
    sender = Sender(
        client_id=caller.client_id,
        country=viewer.country,
        agency=viewer.agency,
        is_partner=caller.has_scope("intel:federate") and viewer.country != home_country,
    )
    outcome: dict[str, Received | str] = {}
    by_record: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if not isinstance(obj, dict) or "id" not in obj or "type" not in obj:
            raise BadRequest("Every object needs a `type` and an `id`.")
        props = record_properties(obj)
        if props is None:
            try:
                parse_object(obj)
            except StixMappingError as exc:
                outcome[obj["id"]] = str(exc)
                continue
            shared = obj["type"] in (
                "marking-definition",
                "extension-definition",
                "identity",
                "location",
            )
            outcome[obj["id"]] = "" if shared else "not an object of a Pangolin record"
        else:
            by_record.setdefault(str(props["record_id"]), []).append(obj)
    for record_id, objs in by_record.items():
        try:
            records = from_stix(objs)
        except StixMappingError as exc:
            for obj in objs:
                outcome[obj["id"]] = str(exc)
            continue
        for record in records:
            received = await receive(
                session=session,
                record=record,
                sender=sender,
                home_country=home_country,
                codes=codes,
            )
            for obj in objs:
                outcome[obj["id"]] = received
        if not records:
            for obj in objs:
                outcome[obj["id"]] = f"record {record_id}: nothing to read"
    successes: list[StatusDetail] = []
    failures: list[StatusDetail] = []
    for obj in objects:
        result = outcome[obj["id"]]
        version = _version_of(obj)
        if isinstance(result, Received):
            detail = StatusDetail(id=obj["id"], version=version, message=result.message)
            (successes if result.ok else failures).append(detail)
        elif result:
            failures.append(StatusDetail(id=obj["id"], version=version, message=result))
        else:
            successes.append(StatusDetail(id=obj["id"], version=version))
    now = datetime.now(UTC)
    status = TaxiiStatus(
        id=str(uuid.uuid4()),
        client_id=caller.client_id,
        country=viewer.country,
        request_timestamp=now,
        total_count=len(objects),
        successes=[s.model_dump(exclude_none=True) for s in successes],
        failures=[f.model_dump(exclude_none=True) for f in failures],
    )
    session.add(status)
    return status_of(status)


def status_of(row: TaxiiStatus) -> Status:
    return Status(
        id=row.id,
        request_timestamp=taxii_timestamp(_utc(row.request_timestamp)),
        total_count=row.total_count,
        success_count=len(row.successes),
        successes=[StatusDetail.model_validate(s) for s in row.successes],
        failure_count=len(row.failures),
        failures=[StatusDetail.model_validate(f) for f in row.failures],
    )


async def status(*, session: AsyncSession, caller: Caller, status_id: str) -> Status:
    row = await repository.get_status(session, status_id)
    if row is None or (row.client_id, row.country) != (caller.client_id, caller.country):
        raise StatusNotFound(f"No status {status_id} of yours.")
    return status_of(row)
