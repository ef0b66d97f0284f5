"""The Species+ sync: taxon concepts page by page into species-ref's tables, with events for
what changed and nothing else (a second identical sync writes and emits nothing).

* A taxon is upserted by its Species+ id. Its names, listing changes and distributions are
  replaced by what Species+ says (whatever source wrote them before: the checklist snapshot
  came from Species+ too), and `updated_at` becomes the time of the sync that changed it, so
  `GET /v1/species/taxa?updated_since=` gives consumers species-ref's own increments.
* With `details` (the default) each taxon's `cites_legislation` (scope all: the history) and
  `distributions` are fetched, concurrently within the client's limit. A taxon whose
  details fail (Species+ answers 500 to an unknown id) keeps its stored history and
  distributions and takes its current listings from the page; the failure is in
  `SyncSummary.problems`. Without `details` (a quick pass) the same holds for every taxon.
* Events: `species.taxon.upserted` when a taxon is new or its concept, names, distributions
  or current appendices changed; `species.listing.changed` when its listing changes did,
  with the changes added and removed.
* Quotas and suspensions in force (`is_current`) are written to the restriction tables with
  their Species+ id, through `species_ref.restrictions.repository`, with a
  `species.quota.published` / `species.suspension.published` event when new or changed.
  Species+ gives no end date: one it no longer reports as current gets the sync's date as
  its end (and an event); history it reports as ended is not stored, since its end is not
  known. A restriction on a taxon species-ref does not hold (a class or kingdom missing
  from the checklist) is not stored but reported: without the taxon's name it would read
  as country-wide. Ids already used by another source are reported, never overwritten.
* Nothing is committed here: the caller's session is the unit of work.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.messaging.outbox import enqueue_many
from species_ref.restrictions import repository as restrictions_repository
from species_ref.restrictions.models import ExportQuota, TradeSuspension
from species_ref.restrictions.service import quota_out, suspension_out
from species_ref.speciesplus import mapping, repository
from species_ref.speciesplus.client import (
    CitesLegislation,
    DistributionRecord,
    SpeciesPlusClient,
    SpeciesPlusError,
    TaxonConcept,
)
from species_ref.taxa.models import Distribution, ListingChange, TaxonName
from species_ref.taxa.models import TaxonConcept as TaxonRow
from species_ref.taxa.service import EVENT_SOURCE

_R = TypeVar("_R", ExportQuota, TradeSuspension)
_LISTING_FIELDS = ("appendix", "change_type", "effective_at", "is_current", "party",
                   "annotation", "full_annotation", "hash_annotation", "source")  # fmt: skip
_NAME_FIELDS = ("kind", "name", "author", "language")
_CONCEPT_FIELDS = ("full_name", "author_year", "rank", "kingdom", "phylum", "class_name",
                   "order_name", "family", "genus", "species", "subspecies", "cites_accepted",
                   "source")  # fmt: skip


@dataclass
class SyncSummary:
    pages: int = 0
    taxa: int = 0
    created: int = 0
    updated: int = 0
    listings_changed: int = 0
    quotas_published: int = 0
    suspensions_published: int = 0
    events: int = 0
    # The latest `updated_at` read (Species+'s clock): the next sync's `updated_since`, but
    # only once every page was read (`next_page` None); after a stop at `max_pages`, resume
    # from `next_page`'s number with the same `updated_since` instead.
    latest_update: datetime | None = None
    next_page: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Details:
    legislation: CitesLegislation
    distributions: list[DistributionRecord]


async def sync(
    *,
    session: AsyncSession,
    client: SpeciesPlusClient,
    updated_since: datetime | None = None,
    name: str | None = None,
    details: bool = True,
    language: str | None = None,
    page: int = 1,
    per_page: int = 500,
    max_pages: int | None = None,
    today: date | None = None,
) -> SyncSummary:
    """Sync the taxa Species+ changed since `updated_since` (all if None; `name`: one name).
    `language` (en, es, fr) is the language of the annotations and notes fetched."""
    summary = SyncSummary()
    today = today or datetime.now(UTC).date()
    async for found in client.taxon_concepts(
        updated_since=updated_since, name=name, page=page, per_page=per_page, max_pages=max_pages
    ):
        summary.pages += 1
        summary.next_page = found.next_url
        fetched = await _fetch_details(client, found.taxon_concepts, details, language, summary)
        events = await _sync_taxa(session, found.taxon_concepts, fetched, summary)
        legislations = [d.legislation for d in fetched.values()]
        events += await _sync_restrictions(session, legislations, today, summary)
        await enqueue_many(session, events)
        summary.events += len(events)
        latest = mapping.updated_at_of(found.taxon_concepts)
        if latest is not None and (summary.latest_update is None or latest > summary.latest_update):
            summary.latest_update = latest
    return summary


async def _fetch_details(
    client: SpeciesPlusClient,
    taxa: Sequence[TaxonConcept],
    wanted: bool,
    language: str | None,
    summary: SyncSummary,
) -> dict[int, _Details]:
    if not wanted:
        return {}

    async def one(taxon: TaxonConcept) -> _Details | None:
        try:  # one after the other: the concurrency is across taxa
            distributions = await client.distributions(taxon.id, language=language)
            legislation = await client.cites_legislation(taxon.id, scope="all", language=language)
        except SpeciesPlusError as exc:
            summary.problems.append(f"taxon {taxon.id} {taxon.full_name}: {exc}")
            return None
        return _Details(legislation, distributions)

    results = await asyncio.gather(*(one(taxon) for taxon in taxa))
    return {taxon.id: d for taxon, d in zip(taxa, results, strict=True) if d is not None}


def _key(row: dict[str, Any], fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(name) for name in fields)


def _model_key(model: object, fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(model, name) for name in fields)


def _sorted(keys: Counter[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(keys.elements(), key=lambda key: tuple("" if v is None else str(v) for v in key))


def _current_appendices(rows: Sequence[dict[str, Any]]) -> list[str]:
    found = {
        row["appendix"] for row in rows if row["is_current"] and row["change_type"] == "addition"
    }
    return sorted(found)


def _entry(key: tuple[Any, ...]) -> contract.ListingEntry:
    row = dict(zip(_LISTING_FIELDS, key, strict=True))
    return contract.ListingEntry(
        appendix=row["appendix"],
        change_type=row["change_type"],
        effective_at=row["effective_at"],
        is_current=row["is_current"],
        party=row["party"],
        annotation=row["annotation"],
        hash_annotation=row["hash_annotation"],
    )


async def _sync_taxa(
    session: AsyncSession,
    taxa: Sequence[TaxonConcept],
    fetched: dict[int, _Details],
    summary: SyncSummary,
) -> list[CloudEvent]:
    ids = [taxon.id for taxon in taxa]
    stored = await repository.taxa_by_id(session, ids)
    names = await repository.rows_by_taxon(session, TaxonName, ids)
    listings = await repository.rows_by_taxon(session, ListingChange, ids)
    places = await repository.rows_by_taxon(session, Distribution, ids)
    now = datetime.now(UTC)
    events: list[CloudEvent] = []
    for taxon in taxa:
        summary.taxa += 1
        concept = mapping.concept_row(taxon) | {"updated_at": now}
        new_names = mapping.name_rows(taxon)
        detail = fetched.get(taxon.id)
        old_listing_rows = [
            {name: getattr(row, name) for name in _LISTING_FIELDS} for row in listings[taxon.id]
        ]
        if detail is not None:
            new_listings = mapping.listing_rows(taxon.id, detail.legislation, taxon.cites_listings)
            new_places: list[dict[str, Any]] | None = mapping.distribution_rows(
                taxon.id, detail.distributions
            )
        else:  # keep the stored history; the page says what is current
            history = [row for row in old_listing_rows if not row["is_current"]]
            new_listings = [row | {"taxon_id": taxon.id} for row in history]
            new_listings += mapping.current_listing_rows(taxon)
            new_places = None

        old = stored.get(taxon.id)
        concept_changed = old is None or _model_key(old, _CONCEPT_FIELDS) != _key(
            concept, _CONCEPT_FIELDS
        )
        names_changed = Counter(_model_key(n, _NAME_FIELDS) for n in names[taxon.id]) != Counter(
            _key(n, _NAME_FIELDS) for n in new_names
        )
        old_listings = Counter(_key(row, _LISTING_FIELDS) for row in old_listing_rows)
        listing_keys = Counter(_key(row, _LISTING_FIELDS) for row in new_listings)
        listings_changed = old_listings != listing_keys
        places_changed = new_places is not None and {
            (d.country, d.tag) for d in places[taxon.id]
        } != {(d["country"], d["tag"]) for d in new_places}
        if not (concept_changed or names_changed or listings_changed or places_changed):
            continue

        if old is None:
            await repository.insert_rows(session, TaxonRow, [concept])
            summary.created += 1
        else:
            values = {name: concept[name] for name in (*_CONCEPT_FIELDS, "updated_at")}
            await repository.update_taxon(session, taxon.id, values)
            summary.updated += 1
        if names_changed:
            await repository.replace_rows(session, TaxonName, taxon.id, new_names)
        if listings_changed:
            await repository.replace_rows(session, ListingChange, taxon.id, new_listings)
        if places_changed and new_places is not None:
            await repository.replace_rows(session, Distribution, taxon.id, new_places)

        subject = str(taxon.id)
        previous = _current_appendices(old_listing_rows)
        current = _current_appendices(new_listings)
        if concept_changed or names_changed or places_changed or previous != current:
            upserted = contract.TaxonUpserted(
                taxon_id=taxon.id,
                full_name=concept["full_name"],
                rank=taxon.rank,
                kingdom=concept["kingdom"],
                appendices=mapping.appendices_of(taxon),
                source=mapping.SOURCE,
            )
            events.append(upserted.to_event(source=EVENT_SOURCE, subject=subject))
        if listings_changed:
            summary.listings_changed += 1
            changed = contract.ListingChanged(
                taxon_id=taxon.id,
                full_name=concept["full_name"],
                appendices=current,
                previous_appendices=previous,
                added=[_entry(key) for key in _sorted(listing_keys - old_listings)],
                removed=[_entry(key) for key in _sorted(old_listings - listing_keys)],
                source=mapping.SOURCE,
            )
            events.append(changed.to_event(source=EVENT_SOURCE, subject=subject))
    return events


async def _sync_restrictions(
    session: AsyncSession,
    legislations: Sequence[CitesLegislation],
    today: date,
    summary: SyncSummary,
) -> list[CloudEvent]:
    quotas = {q.id: q for leg in legislations for q in mapping.quotas(leg)}
    suspensions = {s.id: s for leg in legislations for s in mapping.suspensions(leg)}
    if not quotas and not suspensions:
        return []
    wanted = {q.taxon_concept_id for q in quotas.values()} | {
        s.taxon_concept_id for s in suspensions.values() if s.taxon_concept_id is not None
    }
    known = {
        taxon_id: mapping.RestrictionTaxon(taxon_id, taxon.full_name, taxon.rank)
        for taxon_id, taxon in (await repository.taxa_by_id(session, wanted)).items()
    }
    events: list[CloudEvent] = []

    quota_rows: dict[int, dict[str, Any]] = {}
    for record in quotas.values():
        if not record.is_current:
            continue
        problem = mapping.quota_problem(record)
        taxon = known.get(record.taxon_concept_id)
        if taxon is None:
            problem = problem or f"quota {record.id}: taxon {record.taxon_concept_id} unknown"
        if problem is not None or taxon is None:
            summary.problems.append(f"{problem}; not stored")
            continue
        quota_rows[record.id] = mapping.quota_row(record, taxon)
    ended_quotas = {q.id for q in quotas.values() if not q.is_current}
    for row in await _write(session, ExportQuota, quota_rows, ended_quotas, today, summary):
        quota = quota_out(ExportQuota(**row))
        summary.quotas_published += 1
        event = contract.QuotaPublished(quota=quota).to_event(
            source=EVENT_SOURCE, subject=str(row["taxon_id"])
        )
        events.append(event)

    suspension_rows: dict[int, dict[str, Any]] = {}
    for suspension in suspensions.values():
        if not suspension.is_current:
            continue
        on: mapping.RestrictionTaxon | None = None
        if suspension.taxon_concept_id is not None:
            on = known.get(suspension.taxon_concept_id)
            if on is None:
                summary.problems.append(
                    f"suspension {suspension.id}: taxon {suspension.taxon_concept_id} unknown; "
                    "not stored"
                )
                continue
        suspension_rows[suspension.id] = mapping.suspension_row(suspension, on)
    ended = {s.id for s in suspensions.values() if not s.is_current}
    for row in await _write(session, TradeSuspension, suspension_rows, ended, today, summary):
        summary.suspensions_published += 1
        subject = str(row["taxon_id"]) if row["taxon_id"] is not None else "all"
        event = contract.SuspensionPublished(
            suspension=suspension_out(TradeSuspension(**row))
        ).to_event(source=EVENT_SOURCE, subject=subject)
        events.append(event)
    return events


async def _write(
    session: AsyncSession,
    model: type[_R],
    rows: dict[int, dict[str, Any]],
    ended: set[int],
    today: date,
    summary: SyncSummary,
) -> list[dict[str, Any]]:
    """Insert new rows, update changed ones, end those no longer current; return the rows
    written (as stored), for their events."""
    stored = await repository.restrictions_by_id(session, model, set(rows) | ended)
    written: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for restriction_id, row in sorted(rows.items()):
        old = stored.get(restriction_id)
        if old is None:
            inserts.append(row)
            continue
        if old.source != mapping.SOURCE:
            summary.problems.append(
                f"{model.__tablename__} {restriction_id}: id held by {old.source!r}; not stored"
            )
            continue
        if all(getattr(old, name) == value for name, value in row.items()):
            continue
        await repository.update_restriction(session, model, restriction_id, row)
        written.append(row)
    await restrictions_repository.insert(session, model, inserts)
    written.extend(inserts)
    for restriction_id in sorted(ended):
        old = stored.get(restriction_id)
        if old is None or old.source != mapping.SOURCE or old.end_date is not None:
            continue
        end = max(today, old.start_date)
        await repository.update_restriction(session, model, restriction_id, {"end_date": end})
        written.append(old.model_dump() | {"end_date": end})
    return written
