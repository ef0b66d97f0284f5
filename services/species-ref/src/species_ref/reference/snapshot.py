"""The reference snapshot: what a status or a name match needs, held in memory.

A status answer must take well under 10 ms at 50 concurrent requests; five SQL round trips
through async SQLAlchemy cost ~8 ms of CPU alone here. So each replica holds, beside the
name index, every taxon's lineage and listing changes (~38k + ~38k rows), every restriction
(a few hundred) and the guides' descriptions (not their documents), and answers from them
with no I/O. The snapshot is immutable: a rebuild makes a new one and swaps it in whole,
so a request sees one consistent state.

It carries the revision it was read at (`reference.models`); the refresher rebuilds when
the stored revision moves on. The revision is read *before* the data, so a snapshot never
claims to be newer than its data: a write committed during a read is seen at the next
check."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.db import Database
from pangolin_core.service import ServiceRuntime
from species_ref.checklist import CommonName, Synonym
from species_ref.guides.models import IdGuide
from species_ref.matching.index import NameIndex
from species_ref.matching.names import records_from_checklist
from species_ref.matching.service import StoredTaxon
from species_ref.reference.revision import current_revision
from species_ref.restrictions import rules as restriction_rules
from species_ref.restrictions.models import ExportQuota, Reservation, TradeSuspension
from species_ref.restrictions.service import as_rule, quota_out, reservation_out, suspension_out
from species_ref.restrictions.shelf import Held, RestrictionShelves, Shelf
from species_ref.status.rules import Listing
from species_ref.taxa.models import ListingChange, TaxonConcept, TaxonName
from species_ref.taxa.repository import table_of

SNAPSHOT_KEY = "reference"

# Guides on the taxon itself first, then from the nearest higher taxon up.
_RANK_DEPTH = {"VARIETY": 0, "SUBSPECIES": 0, "SPECIES": 1, "GENUS": 2, "FAMILY": 3,
               "ORDER": 4, "CLASS": 5, "PHYLUM": 6, "KINGDOM": 7}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TaxonFacts:
    taxon_id: int
    full_name: str
    rank: str
    kingdom: str
    lineage: restriction_rules.Lineage
    listings: tuple[Listing, ...]


@dataclass(frozen=True)
class ReferenceSnapshot:
    revision: int
    names: NameIndex
    taxa: Mapping[int, TaxonFacts]
    restrictions: RestrictionShelves
    guides: Mapping[tuple[str, str], tuple[contract.IdGuide, ...]]  # by (rank, name) of taxon
    build_seconds: float

    def guides_for(self, taxon: TaxonFacts) -> list[contract.IdGuide]:
        """The guides on the taxon and on each of its higher taxa, most specific first."""
        own = [(taxon.rank, taxon.full_name)]
        higher = sorted(taxon.lineage.higher, key=lambda x: _RANK_DEPTH.get(x[0], 99))
        return [guide for key in own + higher for guide in self.guides.get(key, ())]


@dataclass(frozen=True)
class StoredRows:
    """What a snapshot is built from, as read from the database."""

    revision: int
    concepts: Sequence[Sequence[Any]]
    names: Sequence[Sequence[Any]]
    listings: Sequence[Sequence[Any]]
    quotas: Sequence[ExportQuota]
    suspensions: Sequence[TradeSuspension]
    reservations: Sequence[Reservation]
    guides: Sequence[Sequence[Any]]


_CONCEPT_COLUMNS = ("id", "full_name", "rank", "kingdom", "phylum", "class_name", "order_name",
                    "family", "genus", "species")  # fmt: skip
_LISTING_COLUMNS = ("taxon_id", "appendix", "change_type", "effective_at", "is_current",
                    "annotation", "party", "hash_annotation", "source")  # fmt: skip
_GUIDE_COLUMNS = ("id", "taxon_id", "title", "language", "url", "media_type", "description",
                  "source", "published_by", "published_at")  # fmt: skip


async def read_rows(session: AsyncSession) -> StoredRows:
    revision = await current_revision(session)
    connection = await session.connection()  # Core rows: ~160k of them, no ORM objects
    concept, name, listing, guide = (
        table_of(model) for model in (TaxonConcept, TaxonName, ListingChange, IdGuide)
    )

    async def rows(query: sa.Select[Any]) -> list[Sequence[Any]]:
        return [tuple(row) for row in await connection.execute(query)]

    return StoredRows(
        revision=revision,
        concepts=await rows(
            sa.select(*(concept.c[c] for c in _CONCEPT_COLUMNS)).order_by(concept.c.id)
        ),
        names=await rows(
            sa.select(
                name.c.taxon_id, name.c.kind, name.c.name, name.c.author, name.c.language
            ).order_by(name.c.id)
        ),
        listings=await rows(
            sa.select(*(listing.c[c] for c in _LISTING_COLUMNS)).order_by(listing.c.id)
        ),
        quotas=list(await session.exec(select(ExportQuota))),
        suspensions=list(await session.exec(select(TradeSuspension))),
        reservations=list(await session.exec(select(Reservation))),
        guides=await rows(
            sa.select(
                *(guide.c[c] for c in _GUIDE_COLUMNS),
                guide.c.document.is_not(None).label("has_document"),
            ).order_by(guide.c.language, guide.c.title, guide.c.id)
        ),
    )


def build_snapshot(rows: StoredRows) -> ReferenceSnapshot:
    """The snapshot of what was read (pure; CPU-bound: ~3-4 s for the full checklist)."""
    started = time.perf_counter()
    synonyms: dict[int, list[Synonym]] = {}
    commons: dict[int, list[CommonName]] = {}
    for taxon_id, kind, name, author, language in rows.names:
        if kind == "synonym":
            synonyms.setdefault(taxon_id, []).append(Synonym(name, author))
        else:
            commons.setdefault(taxon_id, []).append(CommonName(name, language or ""))
    listings: dict[int, list[Listing]] = {}
    for (
        taxon_id,
        appendix,
        change_type,
        effective_at,
        is_current,
        annotation,
        party,
        hash_,
        src,
    ) in rows.listings:
        listings.setdefault(taxon_id, []).append(
            Listing(
                appendix=appendix,
                change_type=change_type,
                effective_at=effective_at,
                is_current=bool(is_current),
                annotation=annotation,
                party=party,
                hash_annotation=hash_,
                source=src,
            )
        )
    taxa: dict[int, TaxonFacts] = {}
    stored: list[StoredTaxon] = []
    for (
        taxon_id,
        full_name,
        rank,
        kingdom,
        phylum,
        class_name,
        order,
        family,
        genus,
        species,
    ) in rows.concepts:
        lineage = restriction_rules.lineage(
            taxon_id=taxon_id, rank=rank, full_name=full_name, kingdom=kingdom, phylum=phylum,
            class_name=class_name, order=order, family=family, genus=genus, species=species,
        )  # fmt: skip
        taxa[taxon_id] = TaxonFacts(
            taxon_id=taxon_id,
            full_name=full_name,
            rank=rank,
            kingdom=kingdom,
            lineage=lineage,
            listings=tuple(listings.get(taxon_id, ())),
        )
        stored.append(
            StoredTaxon(
                taxon_id=taxon_id,
                full_name=full_name,
                rank=rank,
                kingdom=kingdom,
                synonyms=tuple(synonyms.get(taxon_id, ())),
                common_names=tuple(commons.get(taxon_id, ())),
            )
        )
    guides: dict[tuple[str, str], list[contract.IdGuide]] = {}
    for (guide_id, taxon_id, title, language, url, media_type, description, source,
         published_by, published_at, has_document) in rows.guides:  # fmt: skip
        on = taxa.get(taxon_id)
        if on is None:
            continue
        guides.setdefault((on.rank, on.full_name), []).append(
            contract.IdGuide(
                id=guide_id,
                taxon_id=taxon_id,
                taxon_name=on.full_name,
                title=title,
                language=language,
                url=url,
                has_document=bool(has_document),
                media_type=media_type,
                description=description,
                source=source,
                published_by=published_by,
                published_at=published_at,
            )
        )
    restrictions = RestrictionShelves(
        quotas=Shelf.of(Held(row.id, as_rule(row), quota_out(row)) for row in rows.quotas),
        suspensions=Shelf.of(
            Held(row.id, as_rule(row), suspension_out(row)) for row in rows.suspensions
        ),
        reservations=Shelf.of(
            Held(row.id, as_rule(row), reservation_out(row)) for row in rows.reservations
        ),
    )
    return ReferenceSnapshot(
        revision=rows.revision,
        names=NameIndex.build(records_from_checklist(stored)),
        taxa=taxa,
        restrictions=restrictions,
        guides={key: tuple(found) for key, found in guides.items()},
        build_seconds=time.perf_counter() - started,
    )


async def load_snapshot(db: Database) -> ReferenceSnapshot:
    """Read the stored reference and build its snapshot off the event loop."""
    async with db.session(write=False) as session:
        rows = await read_rows(session)
    return await asyncio.to_thread(build_snapshot, rows)


def current_snapshot(runtime: ServiceRuntime) -> ReferenceSnapshot:
    snapshot: ReferenceSnapshot = runtime.extras[SNAPSHOT_KEY]
    return snapshot
