"""Species+ payloads as species-ref rows (pure: no I/O).

* Taxon concepts keep their Species+ id. Genus, species and subspecies come from the name
  and rank (the API gives higher taxa only down to family); `cites_accepted` is
  `name_status == "A"`; an empty author is None.
* Names: synonyms with their author; common names with their language (Species+ writes
  ISO 639-1 in capitals, as the checklist does). Duplicates are dropped.
* Listing changes come from `cites_legislation` (scope all: the history): "+", "-", "R+" and
  "R-" are addition, deletion, reservation and reservation_withdrawal; `party` is the
  listing party of an Appendix III listing or the reserving party. The `#` annotation is
  only in the listings `taxon_concepts` embeds, so it is joined by listing id. Without the
  legislation (a list-only sync), those embedded listings are the current additions.
* Distributions: one row per country and tag; no tag means native. Species+ tags
  ("extinct", "reintroduced", "introduced (?)", "uncertain") become the checklist's tag
  names.
* Quotas and suspensions are mapped to `SpeciesPlusQuota` / `SpeciesPlusSuspension`, then to
  restriction rows when their taxon is known (`quota_row`, `suspension_row`). Species+
  gives a quota a publication date and no end, and no term, source or purpose codes (its
  notes word the scope), so a stored quota is in force from its publication date while it
  is current, and its code sets are empty. `applies_to_import` marks a suspension that
  concerns imports too ("The United States has suspended imports ...", "not to authorize
  the import of ivory carvings from Zimbabwe"): direction "both", as the SAPI parser reads
  the same column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from species_ref.checklist import clean_annotation_text
from species_ref.speciesplus.client import (
    CitesLegislation,
    CurrentListing,
    DistributionRecord,
    HashAnnotation,
    QuotaRecord,
    QuotaUnit,
    SuspensionRecord,
    TaxonConcept,
)

SOURCE = "Species+ API"

CHANGE_TYPES = {
    "+": "addition",
    "-": "deletion",
    "R+": "reservation",
    "R-": "reservation_withdrawal",
}
APPENDICES = frozenset({"I", "II", "III", "NC"})
_TAGS = {
    "": "native",
    "native": "native",
    "introduced": "introduced",
    "introduced (?)": "introduced_uncertain",
    "reintroduced": "reintroduced",
    "extinct": "extinct",
    "extinct (?)": "extinct_uncertain",
    "uncertain": "uncertain",
    "distribution uncertain": "uncertain",
}


class MappingError(ValueError):
    """A payload value species-ref cannot store (an unknown change type or appendix)."""


# --- taxa ----------------------------------------------------------------------------------


def concept_row(taxon: TaxonConcept) -> dict[str, Any]:
    words = taxon.full_name.split()
    genus = species = subspecies = None
    if taxon.rank == "GENUS":
        genus = taxon.full_name
    elif taxon.rank == "SPECIES" and len(words) >= 2:
        genus, species = words[0], words[1]
    elif taxon.rank in ("SUBSPECIES", "VARIETY") and len(words) >= 3:
        genus, species, subspecies = words[0], words[1], words[-1]
    higher = taxon.higher_taxa
    return {
        "id": taxon.id,
        "full_name": " ".join(words),
        "author_year": taxon.author_year or None,
        "rank": taxon.rank,
        "kingdom": higher.kingdom,
        "phylum": higher.phylum,
        "class_name": higher.class_name,
        "order_name": higher.order,
        "family": higher.family,
        "genus": genus,
        "species": species,
        "subspecies": subspecies,
        "cites_accepted": taxon.name_status == "A",
        "source": SOURCE,
        "updated_at": taxon.updated_at,
    }


def name_rows(taxon: TaxonConcept) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()

    def add(kind: str, name: str, author: str | None, language: str | None) -> None:
        name = " ".join(name.split())
        if name and (kind, name, language) not in seen:
            seen.add((kind, name, language))
            rows.append(
                {
                    "taxon_id": taxon.id,
                    "kind": kind,
                    "name": name,
                    "author": author,
                    "language": language,
                }
            )

    for synonym in taxon.synonyms:
        add("synonym", synonym.full_name, synonym.author_year or None, None)
    for common in taxon.common_names:
        language = (common.language or "").upper()[:2] or None
        add("common", common.name, None, language)
    return rows


def appendices_of(taxon: TaxonConcept) -> list[str]:
    """The current appendices ("I/II/NC" -> ["I", "II", "NC"])."""
    if not taxon.cites_listing:
        return []
    return [part.strip() for part in taxon.cites_listing.split("/") if part.strip()]


# --- listings ------------------------------------------------------------------------------


def hash_annotation_text(value: str | HashAnnotation | None) -> str | None:
    """ "#4 All parts ..." (symbol, a space, the note), as the checklist loader writes it."""
    if value is None or isinstance(value, str):
        return value or None
    text = " ".join(part for part in (value.symbol, value.full_note) if part)
    return text or None


def _appendix(appendix: str) -> str:
    if appendix not in APPENDICES:
        raise MappingError(f"unknown appendix {appendix!r}")
    return appendix


def _annotation(text: str | None) -> str | None:
    """Annotation HTML as plain text, as the checklist loader cleans it."""
    return clean_annotation_text(text) or None if text else None


def listing_rows(
    taxon_id: int, legislation: CitesLegislation, embedded: Sequence[CurrentListing] = ()
) -> list[dict[str, Any]]:
    """The listing history of `cites_legislation`, with `#` annotations joined by id."""
    hashes = {listing.id: hash_annotation_text(listing.hash_annotation) for listing in embedded}
    rows = []
    for change in sorted(
        legislation.cites_listings, key=lambda c: (c.effective_at or date.min, c.id)
    ):
        if change.taxon_concept_id != taxon_id:
            continue  # a listing of another taxon (a higher one) is that taxon's row
        change_type = CHANGE_TYPES.get(change.change_type)
        if change_type is None:
            raise MappingError(f"listing change {change.id}: unknown type {change.change_type!r}")
        rows.append(
            {
                "taxon_id": taxon_id,
                "appendix": _appendix(change.appendix),
                "change_type": change_type,
                "effective_at": change.effective_at,
                "is_current": change.is_current,
                "party": change.party.iso_code2 if change.party else None,
                "annotation": _annotation(change.annotation),
                "full_annotation": None,
                "hash_annotation": hashes.get(change.id),
                "source": SOURCE,
            }
        )
    return rows


def current_listing_rows(taxon: TaxonConcept) -> list[dict[str, Any]]:
    """The listings in force that `taxon_concepts` embeds, as current additions."""
    return [
        {
            "taxon_id": taxon.id,
            "appendix": _appendix(listing.appendix),
            "change_type": "addition",
            "effective_at": listing.effective_at,
            "is_current": True,
            "party": listing.party.iso_code2 if listing.party else None,
            "annotation": _annotation(listing.annotation),
            "full_annotation": None,
            "hash_annotation": hash_annotation_text(listing.hash_annotation),
            "source": SOURCE,
        }
        for listing in sorted(
            taxon.cites_listings, key=lambda x: (x.effective_at or date.min, x.id)
        )
    ]


# --- distributions -------------------------------------------------------------------------


def distribution_tag(tag: str) -> str:
    text = " ".join(tag.lower().split()).replace("(?)", " (?)").replace("  ", " ").strip()
    return _TAGS.get(text, text.replace(" ", "_"))


def distribution_rows(
    taxon_id: int, distributions: Iterable[DistributionRecord]
) -> list[dict[str, Any]]:
    """One row per (country, tag); entries without a two-letter code are left out."""
    found: set[tuple[str, str]] = set()
    for entry in distributions:
        code = (entry.iso_code2 or "").strip().upper()
        if len(code) != 2:
            continue
        for tag in entry.tags or [""]:
            found.add((code, distribution_tag(tag)))
    return [
        {"taxon_id": taxon_id, "country": country, "tag": tag} for country, tag in sorted(found)
    ]


# --- quotas and suspensions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeciesPlusQuota:
    id: int
    taxon_concept_id: int
    country: str | None
    quota: Decimal | None
    unit: str | None
    publication_date: date | None
    is_current: bool
    public_display: bool
    notes: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class SpeciesPlusSuspension:
    id: int
    taxon_concept_id: int | None  # None: every taxon (a country-wide suspension)
    country: str | None
    start_date: date
    is_current: bool
    applies_to_import: bool
    notes: str | None
    notification: str | None


@dataclass(frozen=True, slots=True)
class RestrictionTaxon:
    """The taxon a restriction names, as species-ref knows it."""

    taxon_id: int
    name: str
    rank: str


def _unit(unit: QuotaUnit | str | None) -> str | None:
    if isinstance(unit, QuotaUnit):
        return unit.code or None
    return unit or None


def quota(record: QuotaRecord) -> SpeciesPlusQuota:
    return SpeciesPlusQuota(
        id=record.id,
        taxon_concept_id=record.taxon_concept_id,
        country=record.geo_entity.iso_code2,
        quota=record.quota,
        unit=_unit(record.unit),
        publication_date=record.publication_date,
        is_current=record.is_current,
        public_display=record.public_display,
        notes=_annotation(record.notes),
        url=record.url or None,
    )


def suspension(record: SuspensionRecord) -> SpeciesPlusSuspension:
    notice = record.start_notification
    notification = None
    if notice is not None:
        parts = [notice.name]
        if notice.date is not None:
            parts.append(f"({notice.date.isoformat()})")
        if notice.url:
            parts.append(notice.url)
        notification = " ".join(parts)
    return SpeciesPlusSuspension(
        id=record.id,
        taxon_concept_id=record.taxon_concept_id,
        country=record.geo_entity.iso_code2,
        start_date=record.start_date,
        is_current=record.is_current,
        applies_to_import=record.applies_to_import,
        notes=_annotation(record.notes),
        notification=notification,
    )


def quotas(legislation: CitesLegislation) -> list[SpeciesPlusQuota]:
    return [quota(record) for record in legislation.cites_quotas]


def suspensions(legislation: CitesLegislation) -> list[SpeciesPlusSuspension]:
    return [suspension(record) for record in legislation.cites_suspensions]


def quota_problem(record: SpeciesPlusQuota) -> str | None:
    """Why a current quota cannot be stored as a restriction row, if it cannot."""
    if record.quota is None:
        return f"quota {record.id}: no quantity"
    if record.publication_date is None:
        return f"quota {record.id}: no publication date"
    if record.country is None:
        return f"quota {record.id}: no country"
    return None


def _taxon_columns(taxon: RestrictionTaxon | None) -> dict[str, Any]:
    if taxon is None:
        return {"taxon_name": None, "rank": None, "taxon_id": None}
    return {"taxon_name": taxon.name, "rank": taxon.rank, "taxon_id": taxon.taxon_id}


def quota_row(record: SpeciesPlusQuota, taxon: RestrictionTaxon) -> dict[str, Any]:
    """The `export_quota` row of a current quota (check `quota_problem` first)."""
    if record.quota is None or record.publication_date is None:
        raise MappingError(quota_problem(record) or f"quota {record.id}")
    notes = "\n".join(part for part in (record.notes, record.url) if part) or None
    return {
        "id": record.id,
        **_taxon_columns(taxon),
        "country": record.country,
        "start_date": record.publication_date,
        "end_date": None,
        "notes": notes,
        "source": SOURCE,
        "source_row": None,
        "quota": record.quota,
        "units": [record.unit] if record.unit else [],
        "terms": [],
        "sources": [],
        "purposes": [],
        "quota_type": None,
    }


def suspension_row(record: SpeciesPlusSuspension, taxon: RestrictionTaxon | None) -> dict[str, Any]:
    """The `trade_suspension` row of a current suspension; `taxon` None only for a
    country-wide one (`taxon_concept_id` None)."""
    notes = "\n".join(part for part in (record.notes, record.notification) if part) or None
    return {
        "id": record.id,
        **_taxon_columns(taxon),
        "country": record.country,
        "start_date": record.start_date,
        "end_date": None,
        "notes": notes,
        "source": SOURCE,
        "source_row": None,
        "direction": "both" if record.applies_to_import else "export",
        "excluded_terms": [],
        "excluded_sources": [],
        "excluded_purposes": [],
    }


def updated_at_of(taxa: Iterable[TaxonConcept]) -> datetime | None:
    """The latest `updated_at` of a batch: where the next increment can start."""
    return max((taxon.updated_at for taxon in taxa), default=None)
