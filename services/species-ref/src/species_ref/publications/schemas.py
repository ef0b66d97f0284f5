"""What a publication is sent as and what the publication endpoints answer.

Three formats (see docs/architecture.md, "Publications"):

* `checklist_csv`: the 33-column Species+ checklist export (`species_ref.checklist`).
* `speciesplus_json`: a Species+ bundle, `SpeciesPlusBundle` below: the API's own bodies.
* `pangolin_json`: `PangolinPublication` below: taxa, quotas, suspensions, reservations
  and identification guides in species-ref's own terms.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from species_ref.speciesplus.client import CitesLegislation, DistributionRecord, TaxonConcept


class PublicationFormat(StrEnum):
    CHECKLIST_CSV = "checklist_csv"
    SPECIESPLUS_JSON = "speciesplus_json"
    PANGOLIN_JSON = "pangolin_json"


class PublicationStatus(StrEnum):
    QUEUED = "queued"
    APPLYING = "applying"
    APPLIED = "applied"
    REJECTED = "rejected"
    FAILED = "failed"


# --- the Species+ bundle --------------------------------------------------------------------


class SpeciesPlusBundle(BaseModel):
    """Species+ API bodies, as `GET taxon_concepts`, `.../cites_legislation?scope=all` and
    `.../distributions` return them, keyed by the taxon's Species+ id. A taxon without
    legislation keeps its stored listing history (its embedded current listings replace
    the current ones); without distributions it keeps the stored ones."""

    model_config = ConfigDict(extra="forbid")

    taxon_concepts: list[TaxonConcept] = Field(min_length=1)
    cites_legislation: dict[int, CitesLegislation] = {}
    distributions: dict[int, list[DistributionRecord]] = {}


# --- Pangolin JSON --------------------------------------------------------------------------

MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database
_CODE = r"^[A-Z0-9]{2}$"
_LANGUAGE = r"^[A-Za-z]{2}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SynonymIn(_In):
    name: str = Field(min_length=1, max_length=255)
    author: str | None = Field(None, max_length=255)


class CommonNameIn(_In):
    name: str = Field(min_length=1, max_length=255)
    language: str = Field(pattern=_LANGUAGE, description="ISO 639-1, e.g. EN")


class ListingIn(_In):
    appendix: Literal["I", "II", "III", "NC"]
    change_type: Literal["addition", "deletion", "reservation", "reservation_withdrawal"] = (
        "addition"
    )
    effective_at: date | None = None
    is_current: bool = True
    party: str | None = Field(
        None, pattern=_CODE, description="The listing party (App. III) or reserving party"
    )
    annotation: str | None = None
    hash_annotation: str | None = None


DistributionTag = Literal["native", "introduced", "introduced_uncertain", "reintroduced",
                          "extinct", "extinct_uncertain", "uncertain"]  # fmt: skip


class DistributionIn(_In):
    country: str = Field(pattern=_CODE)
    tags: list[DistributionTag] = Field(default=["native"], min_length=1)


class TaxonIn(_In):
    """A taxon concept; `listings` None keeps the stored listing history, `distributions`
    None the stored distributions. Given, they replace what is stored."""

    id: int = Field(gt=0, le=MAX_ID, description="The Species+ taxon concept id")
    full_name: str = Field(min_length=1, max_length=255)
    author_year: str | None = Field(None, max_length=255)
    rank: Literal["KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY", "SUBFAMILY", "GENUS",
                  "SPECIES", "SUBSPECIES", "VARIETY"]  # fmt: skip
    kingdom: Literal["Animalia", "Plantae"]
    phylum: str | None = Field(None, max_length=100)
    class_name: str | None = Field(None, max_length=100)
    order: str | None = Field(None, max_length=100)
    family: str | None = Field(None, max_length=100)
    genus: str | None = Field(None, max_length=100)
    species: str | None = Field(None, max_length=100)
    subspecies: str | None = Field(None, max_length=100)
    cites_accepted: bool = True
    synonyms: list[SynonymIn] = []
    common_names: list[CommonNameIn] = []
    listings: list[ListingIn] | None = None
    distributions: list[DistributionIn] | None = None


class _OnTaxon(_In):
    """A taxon by its id or by its scientific name (held by species-ref or in the same
    publication)."""

    taxon_id: int | None = Field(None, gt=0, le=MAX_ID)
    taxon_name: str | None = Field(None, min_length=1, max_length=255)


class QuotaIn(_OnTaxon):
    country: str = Field(pattern=_CODE)
    start_date: date
    end_date: date | None = None
    quota: Decimal = Field(ge=0, max_digits=18, decimal_places=3)  # the column's precision
    units: list[str] = []
    terms: list[str] = []
    sources: list[str] = []
    purposes: list[str] = []
    quota_type: str | None = Field(None, max_length=50)
    notes: str | None = None


class SuspensionIn(_OnTaxon):
    """No taxon: every taxon of the country (a country-wide suspension)."""

    country: str = Field(pattern=_CODE)
    start_date: date
    end_date: date | None = None
    direction: Literal["export", "import", "both"] = "export"
    excluded_terms: list[str] = []
    excluded_sources: list[str] = []
    excluded_purposes: list[str] = []
    notes: str | None = None


class ReservationIn(_OnTaxon):
    party: str = Field(pattern=_CODE)
    start_date: date
    end_date: date | None = None
    notes: str | None = None


class GuideIn(_OnTaxon):
    """An identification guide: a link (`url`) or a document (base64, with its media type).
    The same (taxon, language, title) published again replaces the guide."""

    title: str = Field(min_length=1, max_length=500)
    language: str = Field(pattern=_LANGUAGE, description="ISO 639-1, e.g. en")
    url: str | None = Field(None, max_length=2000, pattern=r"^https?://")
    document: str | None = Field(None, description="base64")
    media_type: str | None = Field(None, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")
    description: str | None = None


class PangolinPublication(_In):
    taxa: list[TaxonIn] = []
    quotas: list[QuotaIn] = []
    suspensions: list[SuspensionIn] = []
    reservations: list[ReservationIn] = []
    guides: list[GuideIn] = []


# --- answers --------------------------------------------------------------------------------


class PublicationOut(BaseModel):
    id: str
    format: str
    status: str
    publisher: str
    publisher_country: str | None
    content_sha256: str
    records_total: int
    records_done: int
    summary: dict[str, Any]
    errors: list[dict[str, Any]]
    error_count: int
    received_at: datetime
    finished_at: datetime | None
    replayed: bool = Field(
        False, description="True: the same content from the same publisher was published before"
    )


class PublicationPage(BaseModel):
    items: list[PublicationOut]
    next: str | None
