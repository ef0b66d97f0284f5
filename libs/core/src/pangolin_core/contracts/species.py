"""species-ref's contracts: the events it publishes (stream SPECIES) and its RPC payloads."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

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


class StatusQuery(BaseModel):
    """One specimen: a name (as declared) or a taxon id, the date and the country of origin."""

    name: str | None = Field(None, min_length=1, max_length=500)
    taxon_id: int | None = None
    as_of: date | None = Field(None, description="Default: today (UTC)")
    country: str | None = Field(None, pattern=r"^[A-Z0-9]{2}$", description="Origin, ISO 3166")
    kingdom: str | None = Field(None, max_length=50)

    @model_validator(mode="after")
    def _one_identifier(self) -> StatusQuery:
        if (self.name is None) == (self.taxon_id is None):
            raise ValueError("give either name or taxon_id")
        return self


class StatusRequest(BaseModel):
    """`POST /v1/species/status` and `species.rpc.status`: up to 1,000 specimens at once."""

    queries: list[StatusQuery] = Field(min_length=1, max_length=MAX_MATCH_BATCH)


class ListingInForce(BaseModel):
    appendix: str
    effective_at: date | None
    party: str | None
    annotation: str | None
    hash_annotation: str | None
    source: str


class SpeciesStatus(BaseModel):
    """The CITES status of one specimen. `appendix` is None when the taxon is not listed, or
    when a split listing cannot be settled (`determined_by`, `reason` say which)."""

    query: StatusQuery
    taxon_id: int | None
    full_name: str | None
    rank: str | None
    match_type: str
    match_confidence: int
    as_of: date
    country: str | None
    listed: bool
    appendix: str | None
    determined_by: str
    reason: str
    listings: list[ListingInForce]
    not_covered_yet: list[str] = Field(
        default_factory=list,
        description="Parts of the status this version does not answer yet: do not read their "
        "absence as 'none'.",
    )


class StatusResponse(BaseModel):
    results: list[SpeciesStatus]
