"""Matching names against the taxa stored in species-ref (the index lives in memory)."""

from __future__ import annotations

from dataclasses import dataclass

from pangolin_core.contracts.species import (
    MatchCandidate,
    MatchRequest,
    MatchResponse,
    NameMatch,
)
from species_ref.checklist import CommonName, Synonym
from species_ref.matching.index import MatchResult, NameIndex


@dataclass(frozen=True, slots=True)
class StoredTaxon:
    """A stored taxon with the names the index needs (the shape the index is built from)."""

    taxon_id: int
    full_name: str
    rank: str
    kingdom: str
    synonyms: tuple[Synonym, ...]
    common_names: tuple[CommonName, ...]


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
