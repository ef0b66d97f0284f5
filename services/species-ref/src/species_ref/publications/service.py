"""Rules of the publications domain: a Management Authority's document is validated whole,
then applied in one transaction, or refused whole.

* Validation: the format's parser (`read_document`: `publications.parsing`, pure), then
  the taxa the restrictions and guides name, by id or by name, held by species-ref or in
  the same publication (`prepare`). Any error refuses the publication: it is kept as
  `rejected` with its errors (the first `MAX_ERRORS`, and their count), nothing applied.
* Applying (`apply`): taxa through `taxa.writer` (shared with the Species+ sync), a
  Species+ bundle's quotas and suspensions as the sync writes them, a Pangolin JSON
  document's quotas, suspensions and reservations through `restrictions.writer`, and
  guides through `guides.service`; only changes are written, each with its event through
  the outbox, and the reference revision is raised (if anything changed). Nothing is
  committed here.
* A publication's restrictions keep their ids in a range of their own (from
  `PUBLICATION_IDS_FROM`, clear of Species+ and SAPI ids). A quota, suspension or
  reservation published again (same taxon, country, start date and codes / direction) is
  the same row: it is updated if it changed, and left alone if not.
* Rows written name their source as `publication <id>`; the publication keeps who sent
  it (the caller's client id and country), when, and its content.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import enqueue_many
from species_ref.codes.service import CodeLists
from species_ref.guides.service import GuideFacts, publish_guides
from species_ref.publications import repository
from species_ref.publications.models import Publication
from species_ref.publications.parsing import (
    Error,
    ParsedPublication,
    ParseResult,
    TaxonRef,
    error,
    parse,
)
from species_ref.publications.schemas import (
    PublicationFormat,
    PublicationStatus,
    QuotaIn,
    ReservationIn,
    SuspensionIn,
)
from species_ref.reference.revision import bump_revision
from species_ref.restrictions import repository as restrictions_repository
from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.restrictions.writer import published_event, write_restrictions
from species_ref.speciesplus.service import write_legislation_restrictions
from species_ref.taxa.writer import write_taxa

MAX_ERRORS = 1000
SOURCE_PREFIX = "publication "
PUBLICATION_IDS_FROM = 1_000_000_000
# A publication of the same content by the same publisher in one of these is answered
# with the earlier one (a rejected one is validated again: the reference may have moved).
REPLAYED = frozenset({PublicationStatus.APPLIED, PublicationStatus.QUEUED,
                      PublicationStatus.APPLYING})  # fmt: skip

Progress = Callable[[int], Awaitable[None]]
_R = TypeVar("_R", ExportQuota, TradeSuspension, Reservation)
Resolved = tuple[int, str, str]  # taxon id, full name, rank


def source_of(publication_id: str) -> str:
    return f"{SOURCE_PREFIX}{publication_id}"


@dataclass
class Prepared:
    parsed: ParsedPublication | None
    errors: list[Error]
    taxa: dict[str, Resolved] = field(default_factory=dict)  # by the path naming it

    @property
    def records(self) -> int:
        return self.parsed.records if self.parsed is not None else 0


@dataclass
class Received:
    publication: Publication
    replayed: bool = False


async def read_document(
    *,
    publication_id: str,
    content: bytes,
    publication_format: PublicationFormat,
    codes: CodeLists,
    max_records: int,
) -> ParseResult:
    """Parse, off the event loop (a whole checklist takes seconds) and outside any
    transaction (on SQLite a writer's transaction holds the only write lock)."""
    return await asyncio.to_thread(
        parse,
        content,
        publication_format,
        codes=codes,
        source=source_of(publication_id),
        max_records=max_records,
    )


async def prepare(*, session: AsyncSession, read: ParseResult) -> Prepared:
    """A parsed document with the taxa it names checked: ready to apply, or its errors."""
    if read.publication is None:
        return Prepared(None, read.errors)
    taxa, errors = await _resolve(session, read.publication)
    return Prepared(None if errors else read.publication, errors, taxa)


async def _resolve(
    session: AsyncSession, parsed: ParsedPublication
) -> tuple[dict[str, Resolved], list[Error]]:
    own_ids: dict[int, Resolved] = {}
    own_names: dict[str, list[Resolved]] = {}
    for facts in parsed.taxa:
        concept = facts.concept
        entry = (concept["id"], concept["full_name"], concept["rank"])
        own_ids[entry[0]] = entry
        own_names.setdefault(entry[1].lower(), []).append(entry)
    refs: Sequence[TaxonRef] = parsed.refs
    stored_ids = await repository.taxa_by_ids(
        session, [r.taxon_id for r in refs if r.taxon_id is not None and r.taxon_id not in own_ids]
    )
    stored_names = await repository.taxa_by_names(
        session, [r.taxon_name for r in refs if r.taxon_id is None and r.taxon_name is not None]
    )
    resolved: dict[str, Resolved] = {}
    errors: list[Error] = []
    for ref in refs:
        if ref.taxon_id is not None:
            found = own_ids.get(ref.taxon_id) or stored_ids.get(ref.taxon_id)
            if found is None:
                errors.append(error(ref.path, "taxon_id", f"unknown taxon {ref.taxon_id}"))
            elif ref.taxon_name is not None and ref.taxon_name.lower() != found[1].lower():
                errors.append(
                    error(ref.path, "taxon_name", f"taxon {ref.taxon_id} is {found[1]!r}")
                )
            else:
                resolved[ref.path] = found
            continue
        assert ref.taxon_name is not None
        key = ref.taxon_name.lower()
        candidates = {e[0]: e for e in [*own_names.get(key, []), *stored_names.get(key, [])]}
        if not candidates:
            errors.append(error(ref.path, "taxon_name", f"unknown taxon {ref.taxon_name!r}"))
        elif len(candidates) > 1:
            ids = ", ".join(str(i) for i in sorted(candidates))
            errors.append(
                error(ref.path, "taxon_name", f"{ref.taxon_name!r} names taxa {ids}: give taxon_id")
            )
        else:
            resolved[ref.path] = next(iter(candidates.values()))
    return resolved, errors


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def receive(
    *,
    session: AsyncSession,
    content: bytes,
    publication_format: PublicationFormat,
    caller: Caller,
    codes: CodeLists,
    inline_max_records: int,
    max_records: int,
) -> Received:
    """Validate a publication and apply it now (at most `inline_max_records` records), queue
    it for a job (more), or keep it as rejected; the same content already published by
    the same publisher is answered with that publication."""
    digest = _sha256(content)
    publication_id = str(uuid4())
    read = await read_document(
        publication_id=publication_id,
        content=content,
        publication_format=publication_format,
        codes=codes,
        max_records=max_records,
    )
    before = await repository.earlier(
        session, publisher=caller.client_id, content_sha256=digest, statuses=REPLAYED
    )
    if before is not None:
        return Received(before, replayed=True)
    publication = Publication(
        id=publication_id,
        format=publication_format.value,
        status=PublicationStatus.QUEUED.value,
        publisher=caller.client_id,
        publisher_country=caller.country,
        content_sha256=digest,
        content=content,
    )
    prepared = await prepare(session=session, read=read)
    session.add(publication)
    if prepared.parsed is None:
        reject(publication, prepared.errors)
        return Received(publication)
    publication.records_total = prepared.records
    if prepared.records > inline_max_records:
        return Received(publication)  # queued: a job applies it
    await session.flush()
    summary = await apply(session=session, publication=publication, prepared=prepared)
    publication.status = PublicationStatus.APPLIED.value
    publication.summary = summary
    publication.records_done = prepared.records
    publication.finished_at = datetime.now(UTC)
    return Received(publication)


def reject(publication: Publication, errors: list[Error]) -> None:
    publication.status = PublicationStatus.REJECTED.value
    publication.errors = errors[:MAX_ERRORS]
    publication.summary = {"error_count": len(errors)}
    publication.finished_at = datetime.now(UTC)


async def apply(
    *,
    session: AsyncSession,
    publication: Publication,
    prepared: Prepared,
    progress: Progress | None = None,
    chunk: int = 500,
) -> dict[str, Any]:
    """Write what a validated publication says, with its events; returns the summary."""
    parsed = prepared.parsed
    assert parsed is not None, "apply takes a validated publication"
    source = source_of(publication.id)
    now = datetime.now(UTC)
    summary: dict[str, Any] = {
        "taxa": 0, "created": 0, "updated": 0, "unchanged": 0, "listings_changed": 0,
        "quotas_published": 0, "suspensions_published": 0, "reservations_published": 0,
        "guides_published": 0, "events": 0,
    }  # fmt: skip
    done = 0
    for start in range(0, len(parsed.taxa), chunk):
        part = parsed.taxa[start : start + chunk]
        written = await write_taxa(session, part, source=source, now=now)
        for name in ("taxa", "created", "updated", "unchanged", "listings_changed"):
            summary[name] += getattr(written, name)
        await enqueue_many(session, written.events)
        summary["events"] += len(written.events)
        done += len(part)
        if progress is not None:
            await progress(done)

    if parsed.legislations:
        applied = await write_legislation_restrictions(session, parsed.legislations, now.date())
        summary["quotas_published"] += applied.quotas_published
        summary["suspensions_published"] += applied.suspensions_published
        if applied.problems:  # validation rules these out; kept visible should one slip by
            summary["problems"] = applied.problems
        await enqueue_many(session, applied.events)
        summary["events"] += len(applied.events)

    published = (
        ("quotas_published", await _write_published(
            session, ExportQuota, parsed.quotas, prepared.taxa, source)),
        ("suspensions_published", await _write_published(
            session, TradeSuspension, parsed.suspensions, prepared.taxa, source)),
        ("reservations_published", await _write_published(
            session, Reservation, parsed.reservations, prepared.taxa, source)),
    )  # fmt: skip
    for name, events in published:
        summary[name] += len(events)
        await enqueue_many(session, events)
        summary["events"] += len(events)

    if parsed.guides:
        guides = [
            GuideFacts(
                taxon_id=prepared.taxa[path][0],
                taxon_name=prepared.taxa[path][1],
                title=guide.title,
                language=guide.language.lower(),
                url=guide.url,
                document=document,
                media_type=guide.media_type,
                description=guide.description,
            )
            for path, guide, document in parsed.guides
        ]
        events = await publish_guides(
            session=session, guides=guides, source=source, publisher=publication.publisher, now=now
        )
        summary["guides_published"] = len(events)
        await enqueue_many(session, events)
        summary["events"] += len(events)

    if progress is not None:
        await progress(parsed.records)
    if summary["events"]:  # every change has its event; nothing changed, nothing to rebuild
        await bump_revision(session)
    return summary


def _restriction_row(
    item: QuotaIn | SuspensionIn | ReservationIn, taxon: Resolved | None, source: str
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "taxon_name": taxon[1] if taxon else None,
        "rank": taxon[2] if taxon else None,
        "taxon_id": taxon[0] if taxon else None,
        "start_date": item.start_date,
        "end_date": item.end_date,
        "notes": item.notes,
        "internal_notes": None,
        "source": source,
        "source_row": None,
    }
    if isinstance(item, QuotaIn):
        return row | {
            "country": item.country,
            "quota": item.quota,
            "units": sorted(set(item.units)),
            "terms": sorted(set(item.terms)),
            "sources": sorted(set(item.sources)),
            "purposes": sorted(set(item.purposes)),
            "quota_type": item.quota_type,
        }
    if isinstance(item, SuspensionIn):
        return row | {
            "country": item.country,
            "direction": item.direction,
            "excluded_terms": sorted(set(item.excluded_terms)),
            "excluded_sources": sorted(set(item.excluded_sources)),
            "excluded_purposes": sorted(set(item.excluded_purposes)),
        }
    return row | {"country": item.party}


def _identity(model: type[_R], row: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a published restriction the same one when published again."""
    same: tuple[Any, ...] = (row["taxon_id"], row["taxon_name"], row["country"], row["start_date"])
    if model is ExportQuota:
        codes = ("units", "terms", "sources", "purposes")
        return same + tuple(tuple(row[name]) for name in codes)
    if model is TradeSuspension:
        return (*same, row["direction"])
    return same


async def _write_published(
    session: AsyncSession,
    model: type[_R],
    items: Sequence[tuple[str, QuotaIn | SuspensionIn | ReservationIn]],
    taxa: dict[str, Resolved],
    source: str,
) -> list[CloudEvent]:
    if not items:
        return []
    stored = await restrictions_repository.publication_rows(
        session, model, source_prefix=SOURCE_PREFIX
    )
    ids = {_identity(model, row.model_dump()): row.id for row in stored}
    next_id = await restrictions_repository.next_id(session, model, at_least=PUBLICATION_IDS_FROM)
    rows: dict[int, dict[str, Any]] = {}
    for path, item in items:
        row = _restriction_row(item, taxa.get(path), source)
        identity = _identity(model, row)
        if identity not in ids:
            ids[identity], next_id = next_id, next_id + 1
        rows[ids[identity]] = row | {"id": ids[identity]}
    written = await write_restrictions(
        session, model, rows, owns=lambda s: s.startswith(SOURCE_PREFIX)
    )
    return [published_event(model, row) for row in written.rows]
