"""species-ref's contracts: the events it publishes (stream SPECIES) and its RPC payloads."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from pangolin_core.contracts.envelope import EventData


class TaxonUpserted(EventData):
    """A taxon concept was created or changed; carries its current listing summary."""

    event_type: ClassVar[str] = "species.taxon.upserted"
    version: ClassVar[int] = 1

    taxon_id: int
    full_name: str
    rank: str
    kingdom: str
    appendices: list[str]
    source: str


MAX_MATCH_BATCH = 1000


class NameQuery(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    kingdom: str | None = Field(None, max_length=50, description="Animalia or Plantae")
    rank: str | None = Field(None, max_length=20, description="e.g. SPECIES, GENUS")


class MatchRequest(BaseModel):
    """`POST /v1/species/match` and `species.rpc.match`: up to 1,000 names at once."""

    names: list[NameQuery] = Field(min_length=1, max_length=MAX_MATCH_BATCH)


class MatchCandidate(BaseModel):
    taxon_id: int
    name: str
    rank: str
    kind: str
    score: float


class NameMatch(BaseModel):
    query: str
    match_type: str  # EXACT, SYNONYM, COMMON_NAME, FUZZY, HIGHER_RANK, AMBIGUOUS, NONE
    confidence: int
    taxon_id: int | None
    matched_name: str | None
    rank: str | None
    alternatives: list[MatchCandidate]


class MatchResponse(BaseModel):
    results: list[NameMatch]
