"""Answering "which CITES controls apply to this specimen, from this country, on this date?".

Beside the listing, the answer carries the export quotas and trade suspensions in force on
the date for the query's country and direction (with its term, source and purpose, when
given) and the reservations in force; see `restrictions.rules` for when each applies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pangolin_core.contracts.species import ListingInForce, SpeciesStatus, StatusQuery
from species_ref.codes.service import CodeListName, CodeLists
from species_ref.matching.index import MatchType
from species_ref.reference.snapshot import ReferenceSnapshot, TaxonFacts
from species_ref.status.rules import applicable_appendix, in_force

# What the status does not answer yet: a client must not read its absence as "none".
NOT_COVERED_YET = ["appendix_iii_party"]


def check_country(query: StatusQuery, codes: CodeLists, position: str = "country") -> None:
    codes.require_country(query.country, field=position)


def status_from(
    *, snapshot: ReferenceSnapshot, codes: CodeLists, query: StatusQuery
) -> SpeciesStatus:
    """The status of one specimen, from the in-memory snapshot (no I/O)."""
    as_of = query.as_of or datetime.now(UTC).date()
    taxon: TaxonFacts | None
    if query.taxon_id is not None:
        taxon = snapshot.taxa.get(query.taxon_id)
        match_type, confidence = ("EXACT", 100) if taxon else ("NONE", 0)
    else:
        assert query.name is not None
        match = snapshot.names.match(query.name, kingdom=query.kingdom)
        match_type, confidence = match.match_type.value, match.confidence
        found = match.taxon_id if match.match_type is not MatchType.AMBIGUOUS else None
        taxon = snapshot.taxa.get(found) if found is not None else None
    if taxon is None:
        reason = "several taxa bear this name" if match_type == "AMBIGUOUS" else "no such taxon"
        return _status(query, as_of, match_type, confidence, reason=reason)
    forced = in_force(taxon.listings, as_of)
    applicable = applicable_appendix(forced, query.country, codes.lists[CodeListName.COUNTRIES])
    binding = snapshot.restrictions.binding(lineage=taxon.lineage, query=query, as_of=as_of)
    return SpeciesStatus(
        query=query,
        taxon_id=taxon.taxon_id,
        full_name=taxon.full_name,
        rank=taxon.rank,
        match_type=match_type,
        match_confidence=confidence,
        as_of=as_of,
        country=query.country,
        listed=any(x.appendix != "NC" for x in forced),
        appendix=applicable.appendix,
        determined_by=applicable.determined_by.value,
        reason=applicable.reason,
        listings=[
            ListingInForce(
                appendix=x.appendix,
                effective_at=x.effective_at,
                party=x.party,
                annotation=x.annotation,
                hash_annotation=x.hash_annotation,
                source=x.source,
            )
            for x in forced
        ],
        quotas=binding.quotas,
        suspensions=binding.suspensions,
        reservations=binding.reservations,
        guides=snapshot.guides_for(taxon),
        not_covered_yet=NOT_COVERED_YET,
    )


def _status(
    query: StatusQuery, as_of: date, match_type: str, confidence: int, *, reason: str
) -> SpeciesStatus:
    return SpeciesStatus(
        query=query,
        taxon_id=None,
        full_name=None,
        rank=None,
        match_type=match_type,
        match_confidence=confidence,
        as_of=as_of,
        country=query.country,
        listed=False,
        appendix=None,
        determined_by="no_taxon",
        reason=reason,
        listings=[],
        not_covered_yet=NOT_COVERED_YET,
    )
