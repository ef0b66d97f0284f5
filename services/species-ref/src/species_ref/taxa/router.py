"""`/v1/species/taxa`: taxon concepts, their names, listings and distributions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pangolin_core.db import SessionDep
from pangolin_core.errors import InvalidInput, NotFound
from pangolin_core.identity import Caller, requires_scope
from pangolin_core.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from species_ref.status.rules import in_force, listing_rule
from species_ref.taxa import repository
from species_ref.taxa.models import ListingChange, TaxonConcept
from species_ref.taxa.schemas import (
    CommonNameOut,
    DistributionOut,
    DistributionsOut,
    HigherTaxa,
    ListingOut,
    ListingsOut,
    SynonymOut,
    TaxonOut,
    TaxonPage,
    TaxonSummary,
)

router = APIRouter(prefix="/v1/species/taxa", tags=["taxa"])

Reader = Annotated[Caller, Depends(requires_scope("species:read"))]


class ListingScope(StrEnum):
    CURRENT = "current"  # what Species+ (or the snapshot) marks current
    HISTORIC = "historic"  # the earlier changes
    ALL = "all"


def _summary(taxon: TaxonConcept, appendices: list[str]) -> TaxonSummary:
    return TaxonSummary(
        id=taxon.id,
        full_name=taxon.full_name,
        author_year=taxon.author_year,
        rank=taxon.rank,
        kingdom=taxon.kingdom,
        appendices=appendices,
        updated_at=taxon.updated_at,
    )


def _listing(listing: ListingChange) -> ListingOut:
    return ListingOut.model_validate(listing, from_attributes=True)


@router.get("", summary="Taxa, by name or changed since a time; cursor paginated")
async def list_taxa(
    session: SessionDep,
    _: Reader,
    name: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    updated_since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> TaxonPage:
    after_id = decode_cursor(cursor).get("after_id") if cursor else None
    taxa = await repository.page_of_taxa(
        session,
        name=name,
        updated_since=updated_since,
        after_id=int(after_id) if after_id is not None else None,
        limit=limit + 1,
    )
    page, more = taxa[:limit], len(taxa) > limit
    appendices = await repository.current_appendices(session, [t.id for t in page])
    return TaxonPage(
        items=[_summary(t, appendices[t.id]) for t in page],
        next=encode_cursor({"after_id": page[-1].id}) if more else None,
    )


async def _taxon_or_404(session: SessionDep, taxon_id: int) -> TaxonConcept:
    taxon = await repository.get_taxon(session, taxon_id)
    if taxon is None:
        raise NotFound(f"No taxon concept with id {taxon_id}.")
    return taxon


@router.get("/{taxon_id}", summary="A taxon concept with its names and current listing")
async def get_taxon(taxon_id: int, session: SessionDep, _: Reader) -> TaxonOut:
    taxon = await _taxon_or_404(session, taxon_id)
    names = await repository.names_of(session, taxon_id)
    listings = await repository.listings_of(session, taxon_id, current=True)
    summary = _summary(taxon, sorted({listing.appendix for listing in listings}))
    return TaxonOut(
        **summary.model_dump(),
        higher_taxa=HigherTaxa(
            kingdom=taxon.kingdom,
            phylum=taxon.phylum,
            class_name=taxon.class_name,
            order=taxon.order_name,
            family=taxon.family,
            genus=taxon.genus,
        ),
        synonyms=[SynonymOut(name=n.name, author=n.author) for n in names if n.kind == "synonym"],
        common_names=[
            CommonNameOut(name=n.name, language=n.language) for n in names if n.kind == "common"
        ],
        current_listings=[_listing(listing) for listing in listings],
        source=taxon.source,
    )


@router.get(
    "/{taxon_id}/listings", summary="Listing changes of a taxon, or those in force on a date"
)
async def get_listings(
    taxon_id: int,
    session: SessionDep,
    _: Reader,
    scope: ListingScope | None = None,
    as_of: date | None = None,
) -> ListingsOut:
    """`scope` (default current) picks stored changes; `as_of` instead gives the listings in
    force on that date, as the status reads them (`status.rules.in_force`)."""
    if scope is not None and as_of is not None:
        raise InvalidInput(
            "Give scope or as_of, not both.",
            errors=[{"field": "scope", "message": "not with as_of", "type": "value"}],
        )
    await _taxon_or_404(session, taxon_id)
    if as_of is not None:
        stored = await repository.listings_of(session, taxon_id, current=None)
        forced = in_force([listing_rule(x) for x in stored], as_of)
        return ListingsOut(
            taxon_id=taxon_id,
            scope="in_force",
            as_of=as_of,
            listings=[ListingOut.model_validate(x, from_attributes=True) for x in forced],
        )
    scope = scope or ListingScope.CURRENT
    current = {ListingScope.CURRENT: True, ListingScope.HISTORIC: False}.get(scope)
    listings = await repository.listings_of(session, taxon_id, current=current)
    return ListingsOut(
        taxon_id=taxon_id, scope=scope.value, listings=[_listing(x) for x in listings]
    )


@router.get("/{taxon_id}/distributions", summary="Where a taxon occurs, with tags")
async def get_distributions(taxon_id: int, session: SessionDep, _: Reader) -> DistributionsOut:
    await _taxon_or_404(session, taxon_id)
    found = await repository.distributions_of(session, taxon_id)
    return DistributionsOut(
        taxon_id=taxon_id,
        distributions=[DistributionOut(country=d.country, tag=d.tag) for d in found],
    )
