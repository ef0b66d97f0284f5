"""Answering "which CITES controls apply to this specimen, from this country, on this date?".

Beside the listing, the answer carries the export quotas and trade suspensions in force on
the date for the query's country and direction (with its term, source and purpose, when
given), the reservations in force (see `restrictions.rules` for when each applies), the ID
guides, and the documents the shipment needs (`status.rules.documents_required`): the
country of origin settles a split listing, and an export from a State that is not the
origin is a re-export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from pangolin_core.contracts.species import (
    ListingInForce,
    RequiredDocuments,
    SpeciesStatus,
    StatusQuery,
)
from species_ref.codes.service import CodeListName, CodeLists
from species_ref.matching.index import MatchType
from species_ref.reference.snapshot import ReferenceSnapshot, TaxonFacts
from species_ref.status.rules import (
    APPENDIX_III,
    Applicable,
    Listing,
    Movement,
    applicable_appendix,
    documents_required,
    in_force,
)

# Named in `not_covered_yet` when an Appendix III listing in force does not say which party
# made it (the 2017 checklist snapshot never does; Species+ and publications do): whether
# an export permit or a certificate of origin is needed then hangs on it.
APPENDIX_III_PARTY = "appendix_iii_party"


def check_country(query: StatusQuery, codes: CodeLists, position: str = "country") -> None:
    """Every country code of the query is in the CITES country list (else a 422 naming it);
    `position` names the query (`country`, or `queries[3].country` in a batch)."""
    prefix = position.removesuffix("country")
    for field in ("country", "origin", "exporter"):
        codes.require_country(getattr(query, field), field=prefix + field)


def origin_of(query: StatusQuery) -> str | None:
    """The country of origin: as given, else the exporting State on export."""
    if query.origin is not None:
        return query.origin
    return query.country if query.direction == "export" else None


def movement_of(query: StatusQuery, origin: str | None) -> tuple[Movement, str | None]:
    """What the shipment is for the State asking, and the State that exports it."""
    if query.direction == "import":
        return Movement.IMPORT, query.exporter
    if query.country is not None and origin is not None and origin != query.country:
        return Movement.RE_EXPORT, query.country
    return Movement.EXPORT, query.country


def documents_of(
    query: StatusQuery, forced: Sequence[Listing], applicable: Applicable, origin: str | None
) -> RequiredDocuments:
    movement, exporter = movement_of(query, origin)
    needed = documents_required(
        forced, applicable, movement=movement, origin=origin, exporter=exporter
    )
    return RequiredDocuments(
        export_document=needed.export_document.value if needed.export_document else None,
        export_document_options=[x.value for x in needed.export_document_options],
        import_permit=needed.import_permit,
        appendix_iii_parties=list(needed.appendix_iii_parties),
        determined=needed.determined,
        reason=needed.reason,
    )


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
    origin = origin_of(query)
    applicable = applicable_appendix(forced, origin, codes.lists[CodeListName.COUNTRIES])
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
        origin=origin,
        documents=documents_of(query, forced, applicable, origin),
        not_covered_yet=[APPENDIX_III_PARTY] if _party_unknown(forced) else [],
    )


def _party_unknown(listings: Sequence[Listing]) -> bool:
    return any(x.appendix == APPENDIX_III and not x.party for x in listings)


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
        origin=origin_of(query),
    )
