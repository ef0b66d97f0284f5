"""`/v1/species/taxa/{id}/quotas` and `/suspensions`: the restrictions that bind a taxon,
including those placed on its higher taxa and country-wide suspensions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pangolin_core.db import SessionDep
from pangolin_core.errors import NotFound
from pangolin_core.identity import Caller, requires_scope
from species_ref.codes.router import code_lists
from species_ref.codes.service import CodeLists
from species_ref.restrictions import service
from species_ref.restrictions.schemas import TaxonQuotas, TaxonSuspensions
from species_ref.taxa import repository as taxa
from species_ref.taxa.models import TaxonConcept

router = APIRouter(prefix="/v1/species/taxa", tags=["restrictions"])

Reader = Annotated[Caller, Depends(requires_scope("species:read"))]
Codes = Annotated[CodeLists, Depends(code_lists)]
Country = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2}$", description="ISO 3166 / CITES")]


async def _taxon_or_404(session: SessionDep, taxon_id: int) -> TaxonConcept:
    taxon = await taxa.get_taxon(session, taxon_id)
    if taxon is None:
        raise NotFound(f"No taxon concept with id {taxon_id}.")
    return taxon


@router.get("/{taxon_id}/quotas", summary="Export quotas on a taxon or its higher taxa")
async def get_quotas(
    taxon_id: int,
    session: SessionDep,
    _: Reader,
    codes: Codes,
    year: Annotated[int | None, Query(ge=1975, le=2100, description="In force that year")] = None,
    country: Country = None,
) -> TaxonQuotas:
    codes.require_country(country)
    taxon = await _taxon_or_404(session, taxon_id)
    quotas = await service.quotas_of(session=session, taxon=taxon, year=year, country=country)
    return TaxonQuotas(
        taxon_id=taxon.id, full_name=taxon.full_name, year=year, country=country, quotas=quotas
    )


@router.get(
    "/{taxon_id}/suspensions",
    summary="Trade suspensions on a taxon, its higher taxa, or all taxa of a country",
)
async def get_suspensions(
    taxon_id: int,
    session: SessionDep,
    _: Reader,
    codes: Codes,
    as_of: Annotated[date | None, Query(description="In force on this date (default: all)")] = None,
    country: Country = None,
) -> TaxonSuspensions:
    codes.require_country(country)
    taxon = await _taxon_or_404(session, taxon_id)
    suspensions = await service.suspensions_of(
        session=session, taxon=taxon, as_of=as_of, country=country
    )
    return TaxonSuspensions(
        taxon_id=taxon.id,
        full_name=taxon.full_name,
        as_of=as_of,
        country=country,
        suspensions=suspensions,
    )
