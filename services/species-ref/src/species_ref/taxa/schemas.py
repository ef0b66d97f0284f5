"""What the taxa endpoints answer."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class HigherTaxa(BaseModel):
    kingdom: str
    phylum: str | None
    class_name: str | None
    order: str | None
    family: str | None
    genus: str | None


class SynonymOut(BaseModel):
    name: str
    author: str | None


class CommonNameOut(BaseModel):
    name: str
    language: str | None


class ListingOut(BaseModel):
    appendix: str
    change_type: str
    effective_at: date | None
    is_current: bool
    party: str | None
    annotation: str | None
    hash_annotation: str | None
    source: str


class DistributionOut(BaseModel):
    country: str
    tag: str


class TaxonSummary(BaseModel):
    id: int
    full_name: str
    author_year: str | None
    rank: str
    kingdom: str
    appendices: list[str]
    updated_at: datetime


class TaxonOut(TaxonSummary):
    name_status: str = "accepted"
    higher_taxa: HigherTaxa
    synonyms: list[SynonymOut]
    common_names: list[CommonNameOut]
    current_listings: list[ListingOut]
    source: str


class TaxonPage(BaseModel):
    items: list[TaxonSummary]
    next: str | None


class ListingsOut(BaseModel):
    taxon_id: int
    scope: str  # current, historic, all, or in_force (with as_of)
    as_of: date | None = None
    listings: list[ListingOut]


class DistributionsOut(BaseModel):
    taxon_id: int
    distributions: list[DistributionOut]
