"""Intelligence records as the API takes and gives them.

Every record has the same envelope (`RecordIn` / `RecordOut`) and the fields of its type in
one of `seizure`, `alert`, `entity` (the one its `type` names; the others are null).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from intel_share.records.grading import DEFAULT_SCHEME, GradingScheme
from pangolin_core.contracts.intel import (
    DistributionLevel,
    EntityKind,
    Originator,
    RecordType,
    Tlp,
)

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
TransportMode = Literal["air", "sea", "road", "rail", "post", "pedestrian", "other"]
RelationshipKind = Literal[
    "part_of_network",  # a person / company -> a network (an entity record)
    "shipped_by",  # a seizure -> the company / vessel / aircraft that shipped it
    "associated_with",
    "owned_by",  # a company / vessel -> its owner
    "operated_by",  # a vessel / aircraft -> its operator
    "located_at",  # a person / company -> an address
    "related_to",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Grading(Strict):
    """A grading in its scheme: e.g. admiralty B2 = usually reliable source, probably true."""

    scheme: GradingScheme = DEFAULT_SCHEME
    source: str = Field("F", min_length=1, max_length=1, description="Source reliability")
    information: str = Field("6", min_length=1, max_length=1, description="Information credibility")


class SeizedSpecimens(Strict):
    """One line of a seizure: the CITES illegal-trade report's species, term, quantity, unit
    and value."""

    species: Name
    term: str = Field(min_length=3, max_length=3, description="CITES term code, e.g. IVO")
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    unit: str | None = Field(None, min_length=2, max_length=3, description="None: specimens")
    value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class SeizureDetails(Strict):
    seized_on: date
    place: Name | None = None
    office: Name | None = Field(None, description="Customs office code or name")
    agency: Name | None = Field(None, description="The seizing agency")
    detection_method: Name | None = None  # e.g. x-ray, sniffer dog, risk profile, tip-off
    specimens: list[SeizedSpecimens] = Field(min_length=1, max_length=200)
    concealment: Text | None = None
    transport_mode: TransportMode | None = None
    origin_countries: list[Country] = Field(default_factory=list, max_length=50)
    export_countries: list[Country] = Field(default_factory=list, max_length=50)
    transit_countries: list[Country] = Field(default_factory=list, max_length=50)
    destination_countries: list[Country] = Field(default_factory=list, max_length=50)
    offenders: list[UUID] = Field(
        default_factory=list, max_length=200, description="Entity records (persons, companies)"
    )
    legal_outcome: Text | None = None
    disposal: Text | None = None


class Route(Strict):
    """`from_country` -> `to_country` through `via` (either end None = any)."""

    from_country: Country | None = None
    to_country: Country | None = None
    via: list[Country] = Field(default_factory=list, max_length=20)


class AlertDetails(Strict):
    modus_operandi: Text
    concealment_method: Text | None = None
    routes: list[Route] = Field(default_factory=list, max_length=50)
    species: list[Name] = Field(default_factory=list, max_length=200)
    valid_from: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class Alias(Strict):
    """Another name: a spelling, a transliteration or a translation (`language`: ISO 639-1)."""

    name: Name
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    script: str | None = Field(None, pattern=r"^[A-Z][a-z]{3}$", description="ISO 15924")


class EntityDetails(Strict):
    kind: EntityKind
    name: Name
    aliases: list[Alias] = Field(default_factory=list, max_length=100)
    # e.g. {"passport": "B1234567"}, {"tax_id": ...}, {"imo": "9321483"}, {"registration": ...}
    identifiers: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)],
        Annotated[str, StringConstraints(min_length=1, max_length=255)],
    ] = Field(default_factory=dict, max_length=50)
    birth_date: date | None = Field(None, description="Persons only")
    country: Country | None = None
    address: Text | None = None

    @model_validator(mode="after")
    def _birth_date_of_persons(self) -> Self:
        if self.birth_date is not None and self.kind != "person":
            raise ValueError("only a person has a birth_date")
        return self


class RelationshipIn(Strict):
    kind: RelationshipKind
    target_id: UUID = Field(description="The related record (usually an entity)")
    description: Text | None = None


class Distribution(Strict):
    level: DistributionLevel = "organisation"
    sharing_group_id: UUID | None = None

    @model_validator(mode="after")
    def _group_iff_sharing_group(self) -> Self:
        if self.level == "sharing_group" and self.sharing_group_id is None:
            raise ValueError("a sharing_group distribution names its sharing_group_id")
        if self.level != "sharing_group" and self.sharing_group_id is not None:
            raise ValueError("sharing_group_id is only for a sharing_group distribution")
        return self


class RecordContent(Strict):
    """What a record says (changed by its originator only, or through a proposal)."""

    title: Name
    description: Annotated[str, StringConstraints(max_length=20000)] | None = None
    seizure: SeizureDetails | None = None
    alert: AlertDetails | None = None
    entity: EntityDetails | None = None
    relationships: list[RelationshipIn] = Field(default_factory=list, max_length=500)


class RecordIn(RecordContent):
    """A new record. `id` may be given (a uuid, kept on every instance), else one is made."""

    id: UUID | None = None
    type: RecordType
    grading: Grading = Field(default_factory=Grading)
    handling_code: Name | None = None
    tlp: Tlp = "amber"
    distribution: Distribution = Field(default_factory=Distribution)
    review_on: date | None = None
    expires_on: date | None = None

    @model_validator(mode="after")
    def _details_of_type(self) -> Self:
        check_details(self.type, self)
        check_dates(self.review_on, self.expires_on)
        return self


def check_details(record_type: str, content: RecordContent) -> None:
    given = {name for name in ("seizure", "alert", "entity") if getattr(content, name) is not None}
    if given != {record_type}:
        raise ValueError(
            f"a {record_type} record has its fields in `{record_type}`"
            + (f", not in {', '.join(sorted(given - {record_type}))}" if given else "")
        )


def check_dates(review_on: date | None, expires_on: date | None) -> None:
    if review_on is not None and expires_on is not None and expires_on < review_on:
        raise ValueError("expires_on is before review_on")


class RecordPatch(Strict):
    """A change to a record (PATCH, or a proposal): only the fields given change.

    `content` replaces what the record says as a whole (title, description, its type's
    fields, relationships)."""

    grading: Grading | None = None
    handling_code: Name | None = None
    tlp: Tlp | None = None
    distribution: Distribution | None = None
    review_on: date | None = None
    expires_on: date | None = None
    content: RecordContent | None = None
    # Optimistic concurrency: refused with 409 when the record is no longer at this version.
    if_version: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _no_null_for_what_a_record_always_has(self) -> Self:
        for name in ("grading", "tlp", "distribution", "content"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null: leave it out to keep it")
        return self

    def changed_fields(self) -> set[str]:
        return set(self.model_fields_set) - {"if_version"}


class GradingOut(Grading):
    code: str = Field(description="e.g. B2")
    confidence: int = Field(ge=0, le=100)


class DistributionOut(BaseModel):
    level: DistributionLevel
    sharing_group_id: str | None = None
    country: str | None = Field(None, description="For `country`: the country it is shared in")


class RelationshipOut(BaseModel):
    kind: str
    target_id: str
    description: str | None = None


class RecordOut(BaseModel):
    id: str
    type: RecordType
    title: str
    description: str | None
    originator: Originator
    grading: GradingOut
    handling_code: str | None
    tlp: Tlp
    distribution: DistributionOut
    review_on: date | None
    expires_on: date | None
    version: int
    revoked: bool
    revoked_at: datetime | None
    revoked_reason: str | None
    created_at: datetime
    updated_at: datetime
    seizure: SeizureDetails | None = None
    alert: AlertDetails | None = None
    entity: EntityDetails | None = None
    relationships: list[RelationshipOut] = Field(default_factory=list)
    is_originator: bool = Field(False, description="Whether the caller is the originator")


class RecordPage(BaseModel):
    records: list[RecordOut]
    total: int = Field(description="Records matching the search that the caller may see")
    next: str | None


class RevokeIn(Strict):
    reason: Text | None = None


class RecordSearch(BaseModel):
    """The filters of `GET /v1/intel/records` (all optional, combined with AND)."""

    type: RecordType | None = None
    species: str | None = None
    country: str | None = None
    entity: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    time_field: Literal["created", "updated", "event"] = "created"
    include_revoked: bool = False

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        """A time without its zone is UTC (every time stored here is)."""
        if moment is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment

    def as_query(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)
