"""When a quota, suspension or reservation applies (pure functions, no I/O).

* A restriction is in force from its start date up to, not including, its end date: SAPI
  chains successive suspensions end-to-start on the same day (Phelsuma grandis MG ends
  02/05/2013 and the next one starts 02/05/2013), so the end date is the first day without
  it. One with a future start date is not in force yet.
* Taxa: a restriction applies to a taxon when it names the taxon (by id, or by name and
  rank when the id is absent or unknown), one of its higher taxa (genus, family, order,
  class, phylum, kingdom, or the species of a subspecies, by name), or no taxon at all (a
  country-wide suspension).
* Scope: a quota covers the codes it lists (empty: all); a suspension covers every code
  except those it exempts. A code not asked for does not narrow anything.
* Country and direction: a restriction with no country concerns every country; an export
  quota or suspension concerns the exporting country, "both" either side.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from species_ref.sapi import Direction, Restriction


@dataclass(frozen=True, slots=True)
class Lineage:
    """A taxon and the (rank, name) of every higher taxon a restriction may name."""

    taxon_id: int
    rank: str
    full_name: str
    higher: frozenset[tuple[str, str]]

    def names(self) -> frozenset[tuple[str, str]]:
        return self.higher | {(self.rank, self.full_name)}


def lineage(
    *,
    taxon_id: int,
    rank: str,
    full_name: str,
    kingdom: str | None = None,
    phylum: str | None = None,
    class_name: str | None = None,
    order: str | None = None,
    family: str | None = None,
    genus: str | None = None,
    species: str | None = None,
) -> Lineage:
    higher = {
        (higher_rank, name)
        for higher_rank, name in (
            ("KINGDOM", kingdom),
            ("PHYLUM", phylum),
            ("CLASS", class_name),
            ("ORDER", order),
            ("FAMILY", family),
            ("GENUS", genus),
        )
        if name and higher_rank != rank
    }
    if rank in ("SUBSPECIES", "VARIETY") and genus and species:
        higher.add(("SPECIES", f"{genus} {species}"))
    return Lineage(taxon_id, rank, full_name, frozenset(higher))


def in_force(restriction: Restriction, as_of: date) -> bool:
    if restriction.start_date > as_of:
        return False
    return restriction.end_date is None or as_of < restriction.end_date


def in_force_during(restriction: Restriction, first: date, last: date) -> bool:
    """In force on at least one day of [first, last]."""
    if restriction.start_date > last:
        return False
    return restriction.end_date is None or restriction.end_date > first


def applies_to_taxon(restriction: Restriction, taxon: Lineage) -> bool:
    if restriction.taxon_name is None:
        return True
    if restriction.taxon_concept_id is not None and restriction.taxon_concept_id == taxon.taxon_id:
        return True
    return (restriction.rank or "", restriction.taxon_name) in taxon.names()


def concerns(restriction: Restriction, *, country: str | None, direction: Direction | None) -> bool:
    """Whether it concerns trade of `country` (None: any) in `direction` (None: any)."""
    if country is not None and restriction.country not in (None, country):
        return False
    if direction is None or restriction.direction is Direction.BOTH:
        return True
    return restriction.direction is direction


def _one(code: str | None, listed: Collection[str], excluded: Collection[str]) -> bool:
    if code is None:
        return True
    return (not listed or code in listed) and code not in excluded


def covers(
    restriction: Restriction,
    *,
    term: str | None = None,
    source: str | None = None,
    purpose: str | None = None,
    unit: str | None = None,
) -> bool:
    """Whether the restriction's scope includes a specimen with these codes."""
    return (
        _one(term, restriction.terms, restriction.excluded_terms)
        and _one(source, restriction.sources, restriction.excluded_sources)
        and _one(purpose, restriction.purposes, restriction.excluded_purposes)
        and _one(unit, restriction.units, ())
    )


def applicable(
    restrictions: Iterable[Restriction],
    *,
    taxon: Lineage,
    as_of: date,
    country: str | None,
    direction: Direction | None,
    term: str | None = None,
    source: str | None = None,
    purpose: str | None = None,
) -> list[Restriction]:
    """The restrictions that bind a specimen of `taxon` traded on `as_of`."""
    return [
        r
        for r in restrictions
        if in_force(r, as_of)
        and applies_to_taxon(r, taxon)
        and concerns(r, country=country, direction=direction)
        and covers(r, term=term, source=source, purpose=purpose)
    ]
