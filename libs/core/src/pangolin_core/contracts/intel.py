"""intel-share's contracts: the events it publishes (stream INTEL) and `intel.rpc.match` (issue 7).

risk-score keeps its watchlists from `intel.watchlist.changed` alone: each event carries every
entry a record now yields, so a consumer replaces what it held for that record (when the
event's `record_version` is not older than what it holds). An empty `entries` list (revoked,
expired) removes the record's entries."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from pangolin_core.contracts.envelope import EventData

MATCH_SUBJECT = "intel.rpc.match"

RecordType = Literal["seizure", "alert", "entity"]
# `network`: a trafficking network (STIX threat-actor); people and companies are `part_of_network`.
EntityKind = Literal["person", "company", "vessel", "aircraft", "address", "network"]
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
DistributionLevel = Literal["organisation", "country", "community", "sharing_group"]


class Originator(BaseModel):
    """Who first reported a record; kept unchanged across instances."""

    agency: str
    country: str


class IntelRecordPublished(EventData):
    """A record was created, or a new version of it was stored (here or from a partner)."""

    event_type: ClassVar[str] = "intel.record.published"
    version: ClassVar[int] = 1

    record_id: str
    record_type: RecordType
    record_version: int
    title: str
    originator: Originator
    tlp: Tlp
    distribution: DistributionLevel
    confidence: int = Field(ge=0, le=100, description="The grading mapped to 0-100")
    published_at: datetime


class IntelRecordRevoked(EventData):
    event_type: ClassVar[str] = "intel.record.revoked"
    version: ClassVar[int] = 1

    record_id: str
    record_version: int
    originator: Originator
    revoked_at: datetime
    reason: str | None = None


WatchlistKind = Literal["trader", "vessel", "route", "hub", "species", "concealment"]


class WatchlistEntry(BaseModel):
    """One thing targeting should watch for, distilled from an intelligence record.

    - `trader`: a person or company (`names`: primary name first, then aliases and translated
      names; `country`, `birth_date`, `identifiers` when known);
    - `vessel`: a vessel or aircraft (`names`, `identifiers` such as IMO or registration);
    - `route`: `route_from` -> `route_to` (either None = any), through `hubs` when given;
    - `hub`: a transit country or place (`hubs`: its ISO country codes);
    - `species`: a taxon name trafficked (`names`);
    - `concealment`: a description pattern used to misdeclare (`names`: the words, such as
      "spare parts")."""

    entry_id: str = Field(description="Stable within its record, e.g. '<record_id>:trader:1'")
    kind: WatchlistKind
    names: list[str] = Field(default_factory=list)
    country: str | None = None
    birth_date: date | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    route_from: str | None = None
    route_to: str | None = None
    hubs: list[str] = Field(default_factory=list)


class WatchlistChanged(EventData):
    """Every watchlist entry a record yields now; replaces what the record yielded before."""

    event_type: ClassVar[str] = "intel.watchlist.changed"
    version: ClassVar[int] = 1

    record_id: str
    record_version: int
    record_type: RecordType
    title: str
    originator: Originator
    tlp: Tlp
    confidence: int = Field(ge=0, le=100)
    valid_until: date | None = None
    entries: list[WatchlistEntry]


# --- intel.rpc.match (and POST /v1/intel/match) ---


class MatchQuery(BaseModel):
    """A person or company to look for among the intelligence entities."""

    name: str = Field(min_length=1, max_length=255)
    kind: Literal["person", "company", "any"] = "any"
    country: str | None = Field(None, min_length=2, max_length=2)
    birth_date: date | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    threshold: float = Field(0.7, ge=0, le=1)
    limit: int = Field(10, ge=1, le=100)


class MatchFeature(BaseModel):
    """One feature's part in a score: e.g. `name` 0.93, `birth_date` -0.3, `country` 0.05."""

    name: str
    score: float
    detail: str | None = None


class EntityMatch(BaseModel):
    entity_id: str
    record_id: str
    kind: EntityKind
    name: str = Field(description="The entity name that matched best")
    score: float = Field(ge=0, le=1)
    features: list[MatchFeature]


class MatchResult(BaseModel):
    matches: list[EntityMatch]
