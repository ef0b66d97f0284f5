"""Tables of taxa: concepts, names (synonyms and common names), listing changes over time and
distributions. Ids of taxon concepts are Species+ ids, stable across sources."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from species_ref.tables import SpeciesRefTable


def _now() -> datetime:
    return datetime.now(UTC)


class TaxonConcept(SpeciesRefTable, table=True):
    __tablename__ = "taxon_concept"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    full_name: str = Field(max_length=255, index=True)
    author_year: str | None = Field(default=None, max_length=255)
    rank: str = Field(max_length=20)
    kingdom: str = Field(max_length=50)
    phylum: str | None = Field(default=None, max_length=100)
    class_name: str | None = Field(default=None, max_length=100)
    order_name: str | None = Field(default=None, max_length=100)
    family: str | None = Field(default=None, max_length=100)
    genus: str | None = Field(default=None, max_length=100)
    species: str | None = Field(default=None, max_length=100)
    subspecies: str | None = Field(default=None, max_length=100)
    cites_accepted: bool = True
    source: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=_now, sa_type=sa.DateTime(timezone=True))


class TaxonName(SpeciesRefTable, table=True):
    """A synonym or a common name of an accepted taxon concept."""

    __tablename__ = "taxon_name"

    id: int | None = Field(default=None, primary_key=True)
    taxon_id: int = Field(foreign_key="taxon_concept.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)  # synonym | common
    name: str = Field(max_length=255, index=True)
    author: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=2)


class ListingChange(SpeciesRefTable, table=True):
    """One change of a taxon's CITES listing. `effective_at` is None for a listing known only
    to be in force at the date of the snapshot it came from (`source`)."""

    __tablename__ = "listing_change"

    id: int | None = Field(default=None, primary_key=True)
    taxon_id: int = Field(foreign_key="taxon_concept.id", index=True, ondelete="CASCADE")
    appendix: str = Field(max_length=3)  # I, II, III, NC (populations not listed)
    change_type: str = Field(max_length=30)  # addition | deletion | reservation | ...
    effective_at: date | None = None
    is_current: bool
    party: str | None = Field(default=None, max_length=2)
    annotation: str | None = Field(default=None, sa_type=sa.Text)
    full_annotation: str | None = Field(default=None, sa_type=sa.Text)
    hash_annotation: str | None = Field(default=None, sa_type=sa.Text)
    source: str = Field(max_length=100)


class Distribution(SpeciesRefTable, table=True):
    __tablename__ = "distribution"

    taxon_id: int = Field(foreign_key="taxon_concept.id", primary_key=True, ondelete="CASCADE")
    country: str = Field(max_length=2, primary_key=True)
    tag: str = Field(max_length=30, primary_key=True)
