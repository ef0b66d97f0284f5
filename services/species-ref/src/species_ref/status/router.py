"""`/v1/species/status`: the CITES status of a specimen (one by query string, or a batch)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from pangolin_core.contracts.species import (
    SpeciesStatus,
    StatusQuery,
    StatusRequest,
    StatusResponse,
)
from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller, requires_scope
from species_ref.codes.router import code_lists
from species_ref.codes.service import CodeLists
from species_ref.reference.snapshot import ReferenceSnapshot, current_snapshot
from species_ref.status.service import check_country, status_from

router = APIRouter(prefix="/v1/species/status", tags=["status"])

Reader = Annotated[Caller, Depends(requires_scope("species:read"))]


async def reference(request: Request) -> ReferenceSnapshot:
    return current_snapshot(request.app.state.runtime)


Snapshot = Annotated[ReferenceSnapshot, Depends(reference)]
Codes = Annotated[CodeLists, Depends(code_lists)]


@router.get("", summary="Which CITES controls apply to a specimen, from a country, on a date")
async def get_status(
    _: Reader,
    snapshot: Snapshot,
    codes: Codes,
    name: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    taxon_id: int | None = None,
    as_of: date | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2}$")] = None,
    kingdom: str | None = None,
    direction: Literal["export", "import"] = "export",
    term: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    source: Annotated[str | None, Query(pattern=r"^[A-Z]$")] = None,
    purpose: Annotated[str | None, Query(pattern=r"^[A-Z]$")] = None,
    origin: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2}$")] = None,
    exporter: Annotated[str | None, Query(pattern=r"^[A-Z0-9]{2}$")] = None,
) -> SpeciesStatus:
    try:
        query = StatusQuery(
            name=name,
            taxon_id=taxon_id,
            as_of=as_of,
            country=country,
            kingdom=kingdom,
            direction=direction,
            term=term,
            source=source,
            purpose=purpose,
            origin=origin,
            exporter=exporter,
        )
    except ValidationError as exc:
        raise InvalidInput(
            "Give either name or taxon_id.",
            errors=[{"field": "name", "message": "give either name or taxon_id", "type": "value"}],
        ) from exc
    check_country(query, codes)
    return status_from(snapshot=snapshot, codes=codes, query=query)


@router.post("", summary="The status of up to 1,000 specimens (a declaration's lines)")
async def post_status(
    body: StatusRequest, _: Reader, snapshot: Snapshot, codes: Codes
) -> StatusResponse:
    for n, query in enumerate(body.queries):
        check_country(query, codes, position=f"queries[{n}].country")
    return StatusResponse(
        results=[status_from(snapshot=snapshot, codes=codes, query=query) for query in body.queries]
    )
