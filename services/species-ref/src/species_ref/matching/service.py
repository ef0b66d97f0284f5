"""Matching names against the taxa stored in species-ref (the index lives in memory)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.species import (
    MatchCandidate,
    MatchRequest,
    MatchResponse,
    NameMatch,
)
from species_ref.checklist import CommonName, Synonym
from species_ref.matching.index import MatchResult, NameIndex
from species_ref.matching.names import records_from_checklist
from species_ref.taxa.models import TaxonConcept, TaxonName
from species_ref.taxa.repository import table_of


@dataclass(frozen=True, slots=True)
class StoredTaxon:
    """A stored taxon with the names the index needs (the shape the index is built from)."""

    taxon_id: int
    full_name: str
    rank: str
    kingdom: str
    synonyms: tuple[Synonym, ...]
    common_names: tuple[CommonName, ...]


async def load_name_index(session: AsyncSession) -> NameIndex:
    """Build the index from the database: accepted names, synonyms and common names."""
    synonyms: dict[int, list[Synonym]] = {}
    commons: dict[int, list[CommonName]] = {}
    connection = await session.connection()  # Core rows: ~87k of them, no ORM objects
    name_table, concept_table = table_of(TaxonName), table_of(TaxonConcept)
    names = sa.select(
        name_table.c.taxon_id,
        name_table.c.kind,
        name_table.c.name,
        name_table.c.author,
        name_table.c.language,
    ).order_by(name_table.c.id)
    for taxon_id, kind, name, author, language in await connection.execute(names):
        if kind == "synonym":
            synonyms.setdefault(taxon_id, []).append(Synonym(name, author))
        else:
            commons.setdefault(taxon_id, []).append(CommonName(name, language or ""))
    concepts = sa.select(
        concept_table.c.id, concept_table.c.full_name, concept_table.c.rank, concept_table.c.kingdom
    ).order_by(concept_table.c.id)
    taxa = [
        StoredTaxon(
            taxon_id=taxon_id,
            full_name=full_name,
            rank=rank,
            kingdom=kingdom,
            synonyms=tuple(synonyms.get(taxon_id, ())),
            common_names=tuple(commons.get(taxon_id, ())),
        )
        for taxon_id, full_name, rank, kingdom in await connection.execute(concepts)
    ]
    return NameIndex.build(records_from_checklist(taxa))


def _answer(result: MatchResult) -> NameMatch:
    return NameMatch(
        query=result.query,
        match_type=result.match_type.value,
        confidence=result.confidence,
        taxon_id=result.taxon_id,
        matched_name=result.matched_name,
        rank=result.rank,
        alternatives=[
            MatchCandidate(
                taxon_id=c.taxon_id, name=c.name, rank=c.rank, kind=c.kind, score=c.score
            )
            for c in result.alternatives
        ],
    )


def match_names(index: NameIndex, request: MatchRequest) -> MatchResponse:
    return MatchResponse(
        results=[
            _answer(index.match(query.name, kingdom=query.kingdom, rank=query.rank))
            for query in request.names
        ]
    )
