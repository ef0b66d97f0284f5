"""Rules of the taxa domain: loading a checklist snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.species import TaxonUpserted
from pangolin_core.messaging.outbox import enqueue_many
from species_ref.checklist import ChecklistTaxon
from species_ref.taxa import repository

EVENT_SOURCE = "/pangolin/species-ref"


@dataclass(frozen=True)
class LoadSummary:
    taxa: int
    names: int
    listings: int
    distributions: int
    skipped: bool = False


def checklist_rows(
    taxon: ChecklistTaxon, *, source: str, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The rows one checklist taxon becomes (pure)."""
    concept = {
        "id": taxon.taxon_id,
        "full_name": taxon.full_name,
        "author_year": taxon.author_year,
        "rank": taxon.rank,
        "kingdom": taxon.kingdom,
        "phylum": taxon.phylum,
        "class_name": taxon.class_name,
        "order_name": taxon.order,
        "family": taxon.family,
        "genus": taxon.genus,
        "species": taxon.species,
        "subspecies": taxon.subspecies,
        "cites_accepted": taxon.cites_accepted,
        "source": source,
        "updated_at": now,
    }
    names = [
        {
            "taxon_id": taxon.taxon_id,
            "kind": "synonym",
            "name": s.name,
            "author": s.author,
            "language": None,
        }
        for s in taxon.synonyms
    ] + [
        {
            "taxon_id": taxon.taxon_id,
            "kind": "common",
            "name": c.name,
            "author": None,
            "language": c.language,
        }
        for c in taxon.common_names
    ]
    # The checklist states what is in force on its date, not when it came into force.
    listings = [
        {
            "taxon_id": taxon.taxon_id,
            "appendix": appendix,
            "change_type": "addition",
            "effective_at": None,
            "is_current": True,
            "party": None,
            "annotation": taxon.annotations.get(appendix),
            "full_annotation": taxon.full_annotations.get(appendix),
            "hash_annotation": taxon.hash_annotations.get(appendix),
            "source": source,
        }
        for appendix in taxon.appendices
    ]
    distributions = [
        {"taxon_id": taxon.taxon_id, "country": country, "tag": tag}
        for country, tag in sorted({(d.country, d.tag) for d in taxon.distributions})
    ]
    return {
        "concepts": [concept],
        "names": names,
        "listings": listings,
        "distributions": distributions,
    }


async def load_checklist(
    *, session: AsyncSession, taxa: Iterable[ChecklistTaxon], source: str
) -> LoadSummary:
    """Load a checklist snapshot into an empty database, with a `species.taxon.upserted`
    event per taxon. A database that already holds taxa is left alone (`skipped`): later
    changes arrive as publications and Species+ increments, which keep their history."""
    if await repository.count_taxa(session):
        return LoadSummary(0, 0, 0, 0, skipped=True)
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {
        "concepts": [], "names": [], "listings": [], "distributions": []
    }  # fmt: skip
    events = []
    for taxon in taxa:
        for kind, taxon_rows in checklist_rows(taxon, source=source, now=now).items():
            rows[kind].extend(taxon_rows)
        event = TaxonUpserted(
            taxon_id=taxon.taxon_id,
            full_name=taxon.full_name,
            rank=taxon.rank,
            kingdom=taxon.kingdom,
            appendices=list(taxon.appendices),
            source=source,
        )
        events.append(event.to_event(source=EVENT_SOURCE, subject=str(taxon.taxon_id)))
    await repository.insert_taxa(session, **rows)
    await enqueue_many(session, events)
    return LoadSummary(
        taxa=len(rows["concepts"]),
        names=len(rows["names"]),
        listings=len(rows["listings"]),
        distributions=len(rows["distributions"]),
    )
