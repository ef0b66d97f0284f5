"""species-ref's contracts: the events it publishes (stream SPECIES) and its RPC payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

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


class RestrictionTaxon(BaseModel):
    """The taxon a restriction is placed on, as its source names it: often a genus, family or
    order; `taxon_id` may be None, or an id missing from the checklist. None name: every
    taxon (a country-wide suspension)."""

    name: str | None
    rank: str | None
    taxon_id: int | None


class ExportQuota(BaseModel):
    """A CITES export quota of `country` (None: every country). Code sets: empty = all."""

    id: int
    taxon: RestrictionTaxon
    country: str | None
    start_date: date
    end_date: date | None = Field(description="None: open-ended; not in force on this date")
    quota: Decimal
    units: list[str]
    terms: list[str]
    sources: list[str]
    purposes: list[str]
    quota_type: str | None
    notes: str | None
    internal_notes: str | None = Field(None, description="The compilers' remarks (UNEP-WCMC)")
    source: str


class TradeSuspension(BaseModel):
    """A CITES recommendation to suspend trade with `country` (None: all countries). It
    covers every term, source and purpose except the `excluded_*` ones."""

    id: int
    taxon: RestrictionTaxon
    country: str | None
    start_date: date
    end_date: date | None = Field(description="None: open-ended; not in force on this date")
    direction: Literal["export", "import", "both"]
    excluded_terms: list[str]
    excluded_sources: list[str]
    excluded_purposes: list[str]
    notes: str | None
    internal_notes: str | None = Field(None, description="The compilers' remarks (UNEP-WCMC)")
    source: str


class Reservation(BaseModel):
    """A party's reservation: it is treated as a non-party for trade in the taxon."""

    id: int
    taxon: RestrictionTaxon
    party: str
    start_date: date
    end_date: date | None
    notes: str | None
    internal_notes: str | None = Field(None, description="The compilers' remarks (UNEP-WCMC)")
    source: str


class QuotaPublished(EventData):
    event_type: ClassVar[str] = "species.quota.published"
    version: ClassVar[int] = 1

    quota: ExportQuota


class SuspensionPublished(EventData):
    event_type: ClassVar[str] = "species.suspension.published"
    version: ClassVar[int] = 1

    suspension: TradeSuspension


class ReservationPublished(EventData):
    event_type: ClassVar[str] = "species.reservation.published"
    version: ClassVar[int] = 1

    reservation: Reservation


class IdGuide(BaseModel):
    """An identification guide on a taxon (it also serves every taxon below it). `url`: a
    link; `has_document`: a stored document at `/v1/species/guides/{id}/document`."""

    id: int
    taxon_id: int
    taxon_name: str
    title: str
    language: str
    url: str | None
    has_document: bool
    media_type: str | None
    description: str | None
    source: str
    published_by: str | None
    published_at: datetime


class GuidePublished(EventData):
    event_type: ClassVar[str] = "species.guide.published"
    version: ClassVar[int] = 1

    guide: IdGuide


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
    """One specimen: a name (as declared) or a taxon id, the date, the State trading it and
    where it comes from."""

    name: str | None = Field(None, min_length=1, max_length=500)
    taxon_id: int | None = None
    as_of: date | None = Field(None, description="Default: today (UTC)")
    country: str | None = Field(
        None,
        pattern=r"^[A-Z0-9]{2}$",
        description="The State trading the specimen (ISO 3166 or CITES code): the exporting "
        "(or re-exporting) State when `direction` is export, the importing State when import",
    )
    kingdom: str | None = Field(None, max_length=50)
    direction: Literal["export", "import"] = Field(
        "export",
        description="export: `country` exports the specimen (its export quotas and export "
        "suspensions apply); import: `country` imports it",
    )
    origin: str | None = Field(
        None,
        pattern=r"^[A-Z0-9]{2}$",
        description="Country of origin: it settles a split (population) listing. Default: "
        "`country` when exporting; not known when importing. An export whose origin is "
        "another State is a re-export",
    )
    exporter: str | None = Field(
        None,
        pattern=r"^[A-Z0-9]{2}$",
        description="On import, the State exporting or re-exporting the shipment (with "
        "`origin`, it tells an export from a re-export); ignored on export (it is `country`)",
    )
    term: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="CITES term code")
    source: str | None = Field(None, pattern=r"^[A-Z]$", description="CITES source code")
    purpose: str | None = Field(None, pattern=r"^[A-Z]$", description="CITES purpose code")

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


ExportDocument = Literal["export_permit", "certificate_of_origin", "re_export_certificate"]


class RequiredDocuments(BaseModel):
    """The CITES documents a shipment of the specimen needs (Articles III-V, Res. Conf. 12.3).
    Not weighed: the exemptions of Article VII, non-party documents (Article X),
    reservations and stricter domestic measures."""

    export_document: ExportDocument | None = Field(
        description="export_permit, certificate_of_origin or re_export_certificate; None when "
        "none is needed or when it is not determined (see `determined`)"
    )
    export_document_options: list[ExportDocument] = Field(
        description="The documents that may be the one needed when it is not determined"
    )
    import_permit: bool | None = Field(
        description="Whether the importing State must issue an import permit (Appendix I); "
        "None when not determined"
    )
    appendix_iii_parties: list[str] = Field(
        description="Parties whose Appendix III listing is in force: a specimen they export "
        "needs their export permit, one from any other State a certificate of origin"
    )
    determined: bool
    reason: str


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
    quotas: list[ExportQuota] = Field(
        default_factory=list,
        description="Export quotas of `country` (of every country if none is given) in force "
        "on `as_of`, on the taxon or a higher taxon, whose scope includes the term, source and "
        "purpose asked (all, if not asked); none when `direction` is import",
    )
    suspensions: list[TradeSuspension] = Field(
        default_factory=list,
        description="Trade suspensions in force on `as_of` for `country` (every country if "
        "none is given) and the direction, on the taxon, a higher taxon or all taxa, not "
        "exempting the term, source or purpose asked. Read `internal_notes`: the source "
        "records some that its compilers say do not apply",
    )
    reservations: list[Reservation] = Field(
        default_factory=list,
        description="Reservations in force on `as_of`: those parties trade as non-parties",
    )
    guides: list[IdGuide] = Field(
        default_factory=list,
        description="Identification guides on the taxon and its higher taxa, most specific first",
    )
    origin: str | None = Field(
        None, description="The country of origin the listing was settled for (see the query)"
    )
    documents: RequiredDocuments | None = Field(
        None, description="The CITES documents the shipment needs; None when no taxon matched"
    )
    not_covered_yet: list[str] = Field(
        default_factory=list,
        description="Parts of the status this version does not answer yet: do not read their "
        "absence as 'none'.",
    )


class StatusResponse(BaseModel):
    results: list[SpeciesStatus]


class ListingEntry(BaseModel):
    """One change of a taxon's CITES listing (`change_type`: addition, deletion, reservation,
    reservation_withdrawal). `party`: the listing party (App. III) or the reserving party."""

    appendix: str
    change_type: str
    effective_at: date | None
    is_current: bool
    party: str | None
    annotation: str | None
    hash_annotation: str | None


class ListingChanged(EventData):
    """A taxon's CITES listing changed: the changes `added` and `removed` since the last
    state species-ref held, and its current appendices before and after."""

    event_type: ClassVar[str] = "species.listing.changed"
    version: ClassVar[int] = 1

    taxon_id: int
    full_name: str
    appendices: list[str]
    previous_appendices: list[str]
    added: list[ListingEntry]
    removed: list[ListingEntry]
    source: str
