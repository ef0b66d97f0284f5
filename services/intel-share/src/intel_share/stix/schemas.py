"""A record as it is exchanged: what the STIX mapping writes and reads, and what federation and
the TAXII server move between instances.

It carries everything a partner needs to store the record as its originator made it (grading
with its scheme, TLP, distribution, version, revoked), and nothing about who read it here.
The records domain turns its rows into `SharedRecord`s and stores the ones that arrive.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pangolin_core.contracts.intel import DistributionLevel, Originator, RecordType, Tlp

# Entities: the contract's kinds, plus `network` (a trafficking network: a STIX threat-actor).
SharedEntityKind = Literal["person", "company", "vessel", "aircraft", "address", "network"]
RelationshipKind = Literal["part_of_network", "shipped_by", "associated_with"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grading(_Model):
    """The grading as its originator gave it: the scheme and its code (`B2`, `A1H`...)."""

    scheme: Literal["admiralty", "5x5x5", "3x5x2"] = "admiralty"
    code: str = Field(min_length=1, max_length=8)


class SeizedItem(_Model):
    species: str = Field(min_length=1, max_length=255)
    term: str | None = Field(None, max_length=8)
    quantity: Decimal | None = None
    unit: str | None = Field(None, max_length=16)
    value: Decimal | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)


class SeizureDetails(_Model):
    """The fields of the CITES illegal-trade report."""

    seized_on: date
    place: str | None = None
    office: str | None = None
    agency: str | None = None
    detection_method: str | None = None
    items: list[SeizedItem] = Field(default_factory=list)
    concealment: str | None = None
    transport_mode: str | None = None
    origin_countries: list[str] = Field(default_factory=list)
    export_country: str | None = None
    transit_countries: list[str] = Field(default_factory=list)
    destination_country: str | None = None
    # Record ids of the entities (people, companies) who offended.
    offender_ids: list[str] = Field(default_factory=list)
    legal_outcome: str | None = None
    disposal: str | None = None


class AlertDetails(_Model):
    modus_operandi: str
    concealment_method: str | None = None
    route: list[str] = Field(default_factory=list, description="Countries, first to last")
    valid_from: date | None = None
    valid_until: date | None = None


class EntityDetails(_Model):
    kind: SharedEntityKind
    name: str = Field(min_length=1, max_length=500)
    aliases: list[str] = Field(default_factory=list)
    identifiers: dict[str, str] = Field(default_factory=dict)
    country: str | None = Field(None, min_length=2, max_length=2)
    birth_date: date | None = None
    address: str | None = None


class Relationship(_Model):
    """`source` (this record's entity) stands in `kind` to `target` (another record's)."""

    kind: RelationshipKind
    source_id: str
    target_id: str
    target_kind: SharedEntityKind | None = Field(
        None, description="Default: a network for part_of_network, else a company"
    )


class SharedRecord(_Model):
    """One version of a record, as every instance that holds it stores it."""

    id: str = Field(description="The record id, the same on every instance")
    record_type: RecordType
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    originator: Originator
    grading: Grading
    confidence: int = Field(ge=0, le=100, description="The grading mapped to 0-100")
    handling_code: str | None = None
    tlp: Tlp
    distribution: DistributionLevel
    sharing_group: str | None = None
    review_on: date | None = None
    expires_on: date | None = None
    created_at: datetime
    modified_at: datetime = Field(description="When this version was made: STIX `modified`")
    revoked: bool = False
    seizure: SeizureDetails | None = None
    alert: AlertDetails | None = None
    entity: EntityDetails | None = None
    relationships: list[Relationship] = Field(default_factory=list)


class Sighting(_Model):
    """'Seen here too': by an agency, or anonymous (no `by`)."""

    id: str
    record_id: str
    seen_at: datetime
    country: str | None = None
    by: Originator | None = None
    count: int = Field(1, ge=1)
    note: str | None = None
