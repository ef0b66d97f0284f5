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
* Taxa are written by `taxa.writer` and restrictions by `restrictions.writer`, which
  publications share (the same facts from another source are no change). Nothing is
  committed here: the caller's session is the unit of work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.messaging.outbox import enqueue_many
from species_ref.restrictions.models import ExportQuota, TradeSuspension
from species_ref.restrictions.writer import published_event, write_restrictions
from species_ref.speciesplus import mapping
from species_ref.speciesplus.client import (
    CitesLegislation,
    DistributionRecord,
    SpeciesPlusClient,
    SpeciesPlusError,
    TaxonConcept,
)
from species_ref.taxa import repository as taxa_repository
from species_ref.taxa.writer import TaxonFacts, write_taxa


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
class SpeciesPlusDetails:
    """A taxon's `cites_legislation` (scope all) and `distributions`."""

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
) -> dict[int, SpeciesPlusDetails]:
    if not wanted:
        return {}

    async def one(taxon: TaxonConcept) -> SpeciesPlusDetails | None:
        try:  # one after the other: the concurrency is across taxa
            distributions = await client.distributions(taxon.id, language=language)
            legislation = await client.cites_legislation(taxon.id, scope="all", language=language)
        except SpeciesPlusError as exc:
            summary.problems.append(f"taxon {taxon.id} {taxon.full_name}: {exc}")
            return None
        return SpeciesPlusDetails(legislation, distributions)

    results = await asyncio.gather(*(one(taxon) for taxon in taxa))
    return {taxon.id: d for taxon, d in zip(taxa, results, strict=True) if d is not None}


def taxon_facts(
    taxon: TaxonConcept,
    legislation: CitesLegislation | None,
    distributions: Sequence[DistributionRecord] | None,
) -> TaxonFacts:
    """What Species+ says about one taxon. With its `cites_legislation` the whole listing
    history; without, the current listings of the page over the stored history. Without
    its distributions, the stored ones are kept. Raises `mapping.MappingError`."""
    concept = mapping.concept_row(taxon)
    del concept["updated_at"]  # species-ref's own clock: the time of the write
    return TaxonFacts(
        concept=concept,
        names=mapping.name_rows(taxon),
        listings=(
            mapping.current_listing_rows(taxon)
            if legislation is None
            else mapping.listing_rows(taxon.id, legislation, taxon.cites_listings)
        ),
        distributions=(
            None if distributions is None else mapping.distribution_rows(taxon.id, distributions)
        ),
        appendices=mapping.appendices_of(taxon),
        keep_history=legislation is None,
    )


async def _sync_taxa(
    session: AsyncSession,
    taxa: Sequence[TaxonConcept],
    fetched: dict[int, SpeciesPlusDetails],
    summary: SyncSummary,
) -> list[CloudEvent]:
    facts = []
    for taxon in taxa:
        detail = fetched.get(taxon.id)
        if detail is None:
            facts.append(taxon_facts(taxon, None, None))
        else:
            facts.append(taxon_facts(taxon, detail.legislation, detail.distributions))
    written = await write_taxa(session, facts, source=mapping.SOURCE, now=datetime.now(UTC))
    summary.taxa += written.taxa
    summary.created += written.created
    summary.updated += written.updated
    summary.listings_changed += written.listings_changed
    return written.events


@dataclass
class RestrictionsApplied:
    quotas_published: int = 0
    suspensions_published: int = 0
    events: list[CloudEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _owned(source: str) -> bool:
    return source == mapping.SOURCE


async def write_legislation_restrictions(
    session: AsyncSession, legislations: Sequence[CitesLegislation], today: date
) -> RestrictionsApplied:
    """The current quotas and suspensions of `legislations`, by their Species+ ids; those
    reported as no longer current are ended at `today` (see the module docstring)."""
    applied = RestrictionsApplied()
    quotas = {q.id: q for leg in legislations for q in mapping.quotas(leg)}
    suspensions = {s.id: s for leg in legislations for s in mapping.suspensions(leg)}
    if not quotas and not suspensions:
        return applied
    wanted = {q.taxon_concept_id for q in quotas.values()} | {
        s.taxon_concept_id for s in suspensions.values() if s.taxon_concept_id is not None
    }
    known = {
        taxon_id: mapping.RestrictionTaxon(taxon_id, taxon.full_name, taxon.rank)
        for taxon_id, taxon in (await taxa_repository.taxa_by_id(session, wanted)).items()
    }

    quota_rows: dict[int, dict[str, Any]] = {}
    for record in quotas.values():
        if not record.is_current:
            continue
        problem = mapping.quota_problem(record)
        taxon = known.get(record.taxon_concept_id)
        if taxon is None:
            problem = problem or f"quota {record.id}: taxon {record.taxon_concept_id} unknown"
        if problem is not None or taxon is None:
            applied.problems.append(f"{problem}; not stored")
            continue
        quota_rows[record.id] = mapping.quota_row(record, taxon)
    ended_quotas = {q.id for q in quotas.values() if not q.is_current}
    written = await write_restrictions(
        session, ExportQuota, quota_rows, owns=_owned, ended=ended_quotas, today=today
    )
    applied.problems += written.problems
    for row in written.rows:
        applied.quotas_published += 1
        applied.events.append(published_event(ExportQuota, row))

    suspension_rows: dict[int, dict[str, Any]] = {}
    for suspension in suspensions.values():
        if not suspension.is_current:
            continue
        on: mapping.RestrictionTaxon | None = None
        if suspension.taxon_concept_id is not None:
            on = known.get(suspension.taxon_concept_id)
            if on is None:
                applied.problems.append(
                    f"suspension {suspension.id}: taxon {suspension.taxon_concept_id} unknown; "
                    "not stored"
                )
                continue
        suspension_rows[suspension.id] = mapping.suspension_row(suspension, on)
    ended = {s.id for s in suspensions.values() if not s.is_current}
    written = await write_restrictions(
        session, TradeSuspension, suspension_rows, owns=_owned, ended=ended, today=today
    )
    applied.problems += written.problems
    for row in written.rows:
        applied.suspensions_published += 1
        applied.events.append(published_event(TradeSuspension, row))
    return applied


async def _sync_restrictions(
    session: AsyncSession,
    legislations: Sequence[CitesLegislation],
    today: date,
    summary: SyncSummary,
) -> list[CloudEvent]:
    applied = await write_legislation_restrictions(session, legislations, today)
    summary.quotas_published += applied.quotas_published
    summary.suspensions_published += applied.suspensions_published
    summary.problems += applied.problems
    return applied.events
