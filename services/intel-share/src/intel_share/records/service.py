"""The rules of intelligence records: create, read, search, change, revoke.

Only the originator organisation changes a record (grading, distribution, content) or revokes
it; others who see it propose changes (`proposals`) and add sightings. A record the caller
may not see is a 404, the same as an unknown id, so existence never leaks; a record it sees
but may not change is a 403 `not_originator`. Each change is a new version (+1), stored as a
snapshot, and published through the outbox in the same transaction: `intel.record.published`
(or `intel.record.revoked`) and `intel.watchlist.changed`.

Every record feeds this instance's own risk-score, TLP RED and organisation-only ones too:
the events stay on this instance's NATS, risk-score works for the same organisation, and the
events carry the TLP and distribution so nothing downstream re-shares them (federation reads
records through the access rule, never these events).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import GroupMember, RecordAccess, Viewer, is_originator
from intel_share.audit import service as audit
from intel_share.audit.schemas import AuditAction
from intel_share.audit.service import utc
from intel_share.errors import (
    NotOriginator,
    RecordNotFound,
    RecordRevoked,
    SharingGroupNotFound,
    VersionMismatch,
)
from intel_share.records import grading, repository
from intel_share.records.models import IntelRecord, IntelRecordVersion, IntelRelationship
from intel_share.records.repository import Position
from intel_share.records.schemas import (
    DistributionOut,
    GradingOut,
    RecordContent,
    RecordIn,
    RecordOut,
    RecordPage,
    RecordPatch,
    RecordSearch,
    RelationshipOut,
    check_dates,
    check_details,
)
from intel_share.records.watchlist import valid_until, watchlist_entries
from intel_share.sharing_groups import repository as sharing_groups
from intel_share.taxii import projection as taxii_projection
from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
from pangolin_core.contracts.intel import (
    IntelRecordPublished,
    IntelRecordRevoked,
    Originator,
    WatchlistChanged,
    WatchlistEntry,
)
from pangolin_core.errors import BadRequest, Conflict, InvalidInput
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import enqueue
from pangolin_core.pagination import decode_cursor, encode_cursor

EVENT_SOURCE = "/pangolin/intel-share"
READ_SCOPE = "intel:read"
WRITE_SCOPE = "intel:write"


# --- validation beyond the schema (code lists, grading per scheme, sharing groups) ---


def _invalid(errors: list[tuple[str, str]]) -> InvalidInput:
    return InvalidInput(
        "; ".join(message for _, message in errors),
        errors=[{"field": f, "message": m, "type": "value_error"} for f, m in errors],
    )


def content_errors(
    content: RecordContent, codes: CodeLists, prefix: str = ""
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []

    def country(field: str, code: str | None) -> None:
        if code is not None and not codes.is_valid(CodeListName.COUNTRIES, code):
            errors.append((prefix + field, f"{code} is not a CITES country code"))

    if content.seizure is not None:
        seizure = content.seizure
        for i, line in enumerate(seizure.specimens):
            if not codes.is_valid(CodeListName.TERMS, line.term):
                errors.append((f"{prefix}seizure.specimens[{i}].term", f"unknown term {line.term}"))
            if line.unit is not None and not codes.is_valid(CodeListName.UNITS, line.unit):
                errors.append((f"{prefix}seizure.specimens[{i}].unit", f"unknown unit {line.unit}"))
        for name in ("origin", "export", "transit", "destination"):
            for i, code in enumerate(getattr(seizure, f"{name}_countries")):
                country(f"seizure.{name}_countries[{i}]", code)
    if content.alert is not None:
        for i, route in enumerate(content.alert.routes):
            country(f"alert.routes[{i}].from_country", route.from_country)
            country(f"alert.routes[{i}].to_country", route.to_country)
            for j, code in enumerate(route.via):
                country(f"alert.routes[{i}].via[{j}]", code)
    if content.entity is not None:
        country("entity.country", content.entity.country)
    return errors


async def _check_envelope(
    session: AsyncSession, record: IntelRecord, errors: list[tuple[str, str]]
) -> None:
    errors += grading.grading_errors(
        record.grading_scheme,
        record.grading_source,
        record.grading_information,
        record.handling_code,
    )
    try:
        check_dates(record.review_on, record.expires_on)
    except ValueError as exc:
        errors.append(("expires_on", str(exc)))
    if errors:
        raise _invalid(errors)
    if record.sharing_group_id is not None and not await sharing_groups.exists(
        session, record.sharing_group_id
    ):
        raise SharingGroupNotFound(
            f"No sharing group {record.sharing_group_id}.",
            errors=[
                {
                    "field": "distribution.sharing_group_id",
                    "message": "unknown sharing group",
                    "type": "not_found",
                }
            ],
        )


# --- rows <-> API ---


def _search_text(record: IntelRecord) -> str:
    parts: list[str] = [record.title, record.description or ""]
    details = record.details
    if record.type == "entity":
        parts.append(str(details.get("name", "")))
        parts += [str(alias.get("name", "")) for alias in details.get("aliases", [])]
        parts += [str(v) for v in details.get("identifiers", {}).values()]
    elif record.type == "seizure":
        parts += [str(line.get("species", "")) for line in details.get("specimens", [])]
        parts += [str(details.get(k) or "") for k in ("concealment", "place", "office", "agency")]
    elif record.type == "alert":
        parts += [str(s) for s in details.get("species", [])]
        parts += [str(details.get(k) or "") for k in ("modus_operandi", "concealment_method")]
    return "\n".join(p for p in parts if p).lower()


def _facets(
    record: IntelRecord, relationships: Sequence[IntelRelationship]
) -> list[tuple[str, str]]:
    details = record.details
    facets: list[tuple[str, str]] = []
    countries: list[str] = []
    species: list[str] = []
    entities: list[str] = [rel.target_id for rel in relationships]
    if record.type == "entity":
        entities.append(record.id)
        countries.append(details.get("country") or "")
    elif record.type == "seizure":
        for name in ("origin", "export", "transit", "destination"):
            countries += details.get(f"{name}_countries", [])
        species += [line["species"] for line in details.get("specimens", [])]
        entities += [str(offender) for offender in details.get("offenders", [])]
    elif record.type == "alert":
        for route in details.get("routes", []):
            countries += [route.get("from_country") or "", route.get("to_country") or ""]
            countries += route.get("via", [])
        species += details.get("species", [])
    facets += [("country", c) for c in dict.fromkeys(countries) if c]
    facets += [("species", s.lower()) for s in dict.fromkeys(species) if s]
    facets += [("entity", e.lower()) for e in dict.fromkeys(entities) if e]
    return facets


def apply_content(record: IntelRecord, content: RecordContent) -> list[IntelRelationship]:
    """Put `content` (already checked against the record's type) into the row: title,
    description, the type's fields, event date, search text; the relationships to store."""
    record.title = content.title
    record.description = content.description
    details = getattr(content, record.type)
    assert details is not None  # check_details ran
    record.details = details.model_dump(mode="json")
    if record.type == "seizure" and content.seizure is not None:
        record.event_on = content.seizure.seized_on
    elif record.type == "alert" and content.alert is not None:
        record.event_on = content.alert.valid_from
    else:
        record.event_on = None
    record.search_text = _search_text(record)
    return [
        IntelRelationship(
            source_id=record.id,
            kind=rel.kind,
            target_id=str(rel.target_id),
            description=rel.description,
        )
        for rel in content.relationships
    ]


def record_out(
    record: IntelRecord, relationships: Sequence[IntelRelationship], viewer: Viewer | None
) -> RecordOut:
    details = {record.type: record.details}
    return RecordOut.model_validate(
        {
            "id": record.id,
            "type": record.type,
            "title": record.title,
            "description": record.description,
            "originator": {
                "agency": record.originator_agency,
                "country": record.originator_country,
            },
            "grading": GradingOut(
                scheme=record.grading_scheme,
                source=record.grading_source,
                information=record.grading_information,
                code=record.grading_source + record.grading_information,
                confidence=record.confidence,
            ),
            "handling_code": record.handling_code,
            "tlp": record.tlp,
            "distribution": DistributionOut(
                level=record.distribution,
                sharing_group_id=record.sharing_group_id,
                country=(record.distribution_country or record.originator_country)
                if record.distribution == "country"
                else None,
            ),
            "review_on": record.review_on,
            "expires_on": record.expires_on,
            "version": record.version,
            "revoked": record.revoked,
            "revoked_at": utc(record.revoked_at) if record.revoked_at else None,
            "revoked_reason": record.revoked_reason,
            "created_at": utc(record.created_at),
            "updated_at": utc(record.updated_at),
            **details,
            "relationships": [
                RelationshipOut(kind=r.kind, target_id=r.target_id, description=r.description)
                for r in relationships
            ],
            "is_originator": viewer is not None
            and (viewer.country, viewer.agency)
            == (record.originator_country, record.originator_agency),
        }
    )


async def relationships_of(session: AsyncSession, record: IntelRecord) -> list[IntelRelationship]:
    """A record's relationships as new rows, to store again with its next version."""
    stored = (await repository.relationships_of(session, [record.id]))[record.id]
    return [
        IntelRelationship(
            source_id=r.source_id, kind=r.kind, target_id=r.target_id, description=r.description
        )
        for r in stored
    ]


# --- versions and their events ---


async def save_version(
    *,
    session: AsyncSession,
    record: IntelRecord,
    relationships: list[IntelRelationship],
    changed_by: str,
) -> RecordOut:
    """Store `record` at its (new) version: facets, relationships, the version's snapshot, and
    its events in the outbox, all in the caller's unit of work. (Federation stores a
    partner's record through here too.)"""
    session.add(record)
    await repository.replace_links(
        session,
        record_id=record.id,
        facets=_facets(record, relationships),
        relationships=relationships,
    )
    out = record_out(record, relationships, viewer=None)
    session.add(
        IntelRecordVersion(
            record_id=record.id,
            version=record.version,
            snapshot=out.model_dump(mode="json", exclude={"is_originator"}),
            changed_by=changed_by,
            changed_at=record.updated_at,
        )
    )
    await session.flush()
    await _publish(session, out)
    await taxii_projection.project(session, out)
    return out


async def _publish(session: AsyncSession, out: RecordOut) -> None:
    originator = Originator(agency=out.originator.agency, country=out.originator.country)
    if out.revoked:
        revoked = IntelRecordRevoked(
            record_id=out.id,
            record_version=out.version,
            originator=originator,
            revoked_at=out.revoked_at or out.updated_at,
            reason=out.revoked_reason,
        )
        await enqueue(session, revoked.to_event(source=EVENT_SOURCE, subject=out.id))
    else:
        published = IntelRecordPublished(
            record_id=out.id,
            record_type=out.type,
            record_version=out.version,
            title=out.title,
            originator=originator,
            tlp=out.tlp,
            distribution=out.distribution.level,
            confidence=out.grading.confidence,
            published_at=out.updated_at,
        )
        await enqueue(session, published.to_event(source=EVENT_SOURCE, subject=out.id))
    entries = watchlist_entries(out, today=out.updated_at.date())
    await enqueue(
        session, watchlist_changed(out, entries).to_event(source=EVENT_SOURCE, subject=out.id)
    )


def watchlist_changed(out: RecordOut, entries: list[WatchlistEntry]) -> WatchlistChanged:
    """The `intel.watchlist.changed` of a record at its version: `entries` replace what the
    record yielded before."""
    return WatchlistChanged(
        record_id=out.id,
        record_version=out.version,
        record_type=out.type,
        title=out.title,
        originator=Originator(agency=out.originator.agency, country=out.originator.country),
        tlp=out.tlp,
        confidence=out.grading.confidence,
        valid_until=valid_until(out),
        entries=entries,
    )


# --- the operations ---


async def create(
    *, session: AsyncSession, request: RecordIn, caller: Caller, codes: CodeLists
) -> RecordOut:
    viewer = Viewer.of(caller)
    now = datetime.now(UTC)
    record_id = str(request.id or uuid4())
    if await repository.exists(session, record_id):
        raise Conflict(f"A record {record_id} exists already.")
    record = IntelRecord(
        id=record_id,
        type=request.type,
        title=request.title,
        originator_agency=viewer.agency,
        originator_country=viewer.country,
        grading_scheme=request.grading.scheme,
        grading_source=request.grading.source,
        grading_information=request.grading.information,
        confidence=0,
        handling_code=request.handling_code,
        tlp=request.tlp,
        distribution=request.distribution.level,
        sharing_group_id=_group_id(request.distribution.sharing_group_id),
        review_on=request.review_on,
        expires_on=request.expires_on,
        version=1,
        created_by=caller.client_id,
        created_at=now,
        updated_at=now,
    )
    errors = content_errors(request, codes)
    await _check_envelope(session, record, errors)
    record.confidence = grading.confidence(record.grading_scheme, record.grading_information)
    relationships = apply_content(record, request)
    out = await save_version(
        session=session, record=record, relationships=relationships, changed_by=caller.client_id
    )
    await audit.record(
        session=session, action=AuditAction.CREATED, caller=caller, record_ids=[record_id], at=now
    )
    out.is_originator = True
    return out


def _group_id(value: object) -> str | None:
    return None if value is None else str(value)


async def visible_record(
    session: AsyncSession, record_id: str, caller: Caller, *, for_update: bool = False
) -> IntelRecord:
    record = await repository.get_visible(
        session, record_id, Viewer.of(caller), for_update=for_update
    )
    if record is None:
        raise RecordNotFound(f"No intelligence record {record_id} that you may see.")
    return record


def record_access(
    record: IntelRecord, members: frozenset[GroupMember] = frozenset()
) -> RecordAccess:
    """What the access rule reads of a record (`members`: its sharing group's, if any)."""
    return RecordAccess(
        originator_country=record.originator_country,
        originator_agency=record.originator_agency,
        tlp=record.tlp,
        distribution=record.distribution,
        distribution_country=record.distribution_country,
        sharing_group_members=members,
        sharing_group_id=record.sharing_group_id,
    )


def require_originator(record: IntelRecord, caller: Caller, what: str) -> None:
    if not is_originator(Viewer.of(caller), record_access(record)):
        raise NotOriginator(
            f"Only the originator ({record.originator_agency}, {record.originator_country})"
            f" may {what}; propose the change instead."
        )


async def read(*, session: AsyncSession, record_id: str, caller: Caller) -> RecordOut:
    record = await visible_record(session, record_id, caller)
    relationships = await repository.relationships_of(session, [record.id])
    await audit.record(
        session=session, action=AuditAction.READ, caller=caller, record_ids=[record.id]
    )
    return record_out(record, relationships[record.id], Viewer.of(caller))


def _position(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    raw = decode_cursor(cursor)
    try:
        return Position(created_at=datetime.fromisoformat(str(raw["t"])), id=str(raw["id"]))
    except (KeyError, ValueError) as exc:
        raise BadRequest("The cursor is not valid: pass back the `next` of a page.") from exc


async def search(
    *,
    session: AsyncSession,
    caller: Caller,
    filters: RecordSearch,
    limit: int,
    cursor: str | None,
) -> RecordPage:
    if filters.since and filters.until and filters.until < filters.since:
        raise InvalidInput(
            "until is before since.",
            errors=[{"field": "until", "message": "before since", "type": "value_error"}],
        )
    viewer = Viewer.of(caller)
    rows = await repository.search(
        session, viewer=viewer, search=filters, after=_position(cursor), limit=limit + 1
    )
    page = rows[:limit]
    total = await repository.count(session, viewer=viewer, search=filters)
    relationships = await repository.relationships_of(session, [r.id for r in page])
    records = [record_out(r, relationships[r.id], viewer) for r in page]
    await audit.record(
        session=session,
        action=AuditAction.SEARCHED,
        caller=caller,
        record_ids=[r.id for r in records],
        query={**filters.as_query(), "limit": limit, **({"cursor": cursor} if cursor else {})},
    )
    last = page[-1] if page else None
    more = len(rows) > limit and last is not None
    next_cursor = (
        encode_cursor({"t": utc(last.created_at).isoformat(), "id": last.id})
        if more and last is not None
        else None
    )
    return RecordPage(records=records, total=total, next=next_cursor)


async def apply_patch(
    *,
    session: AsyncSession,
    record: IntelRecord,
    patch: RecordPatch,
    codes: CodeLists,
    changed_by: str,
) -> RecordOut:
    """Make `patch` the record's next version (PATCH by the originator, or an accepted
    proposal). Validated as a whole before anything changes."""
    if record.revoked:
        raise RecordRevoked(f"Record {record.id} is revoked: it changes no more.")
    fields = patch.changed_fields()
    if not fields:
        raise InvalidInput(
            "The change changes nothing.",
            errors=[{"field": "", "message": "empty change", "type": "value_error"}],
        )
    errors: list[tuple[str, str]] = []
    if "grading" in fields and patch.grading is not None:
        record.grading_scheme = patch.grading.scheme
        record.grading_source = patch.grading.source
        record.grading_information = patch.grading.information
    if "handling_code" in fields:
        record.handling_code = patch.handling_code
    if "tlp" in fields and patch.tlp is not None:
        record.tlp = patch.tlp
    if "distribution" in fields and patch.distribution is not None:
        record.distribution = patch.distribution.level
        record.sharing_group_id = _group_id(patch.distribution.sharing_group_id)
    if "review_on" in fields:
        record.review_on = patch.review_on
    if "expires_on" in fields:
        record.expires_on = patch.expires_on
    relationships: list[IntelRelationship] | None = None
    if "content" in fields and patch.content is not None:
        try:
            check_details(record.type, patch.content)
        except ValueError as exc:
            errors.append(("content", str(exc)))
        else:
            errors += content_errors(patch.content, codes, prefix="content.")
            relationships = apply_content(record, patch.content)
    await _check_envelope(session, record, errors)
    record.confidence = grading.confidence(record.grading_scheme, record.grading_information)
    if relationships is None:
        relationships = await relationships_of(session, record)
    record.version += 1
    record.updated_at = datetime.now(UTC)
    return await save_version(
        session=session, record=record, relationships=relationships, changed_by=changed_by
    )


async def update(
    *,
    session: AsyncSession,
    record_id: str,
    patch: RecordPatch,
    caller: Caller,
    codes: CodeLists,
) -> RecordOut:
    record = await visible_record(session, record_id, caller, for_update=True)
    require_originator(record, caller, "change a record")
    if patch.if_version is not None and patch.if_version != record.version:
        raise VersionMismatch(
            f"Record {record_id} is at version {record.version}, not {patch.if_version}.",
            current_version=record.version,
        )
    out = await apply_patch(
        session=session, record=record, patch=patch, codes=codes, changed_by=caller.client_id
    )
    await audit.record(
        session=session,
        action=AuditAction.UPDATED,
        caller=caller,
        record_ids=[record_id],
        query={"fields": sorted(patch.changed_fields()), "version": out.version},
    )
    out.is_originator = True
    return out


async def revoke(
    *, session: AsyncSession, record_id: str, reason: str | None, caller: Caller
) -> RecordOut:
    record = await visible_record(session, record_id, caller, for_update=True)
    require_originator(record, caller, "revoke a record")
    if record.revoked:
        raise RecordRevoked(f"Record {record_id} is already revoked.")
    now = datetime.now(UTC)
    record.revoked = True
    record.revoked_at = now
    record.revoked_reason = reason
    record.version += 1
    record.updated_at = now
    kept = await relationships_of(session, record)
    out = await save_version(
        session=session, record=record, relationships=kept, changed_by=caller.client_id
    )
    await audit.record(
        session=session, action=AuditAction.REVOKED, caller=caller, record_ids=[record_id], at=now
    )
    out.is_originator = True
    return out
