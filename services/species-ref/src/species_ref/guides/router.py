"""`/v1/species/taxa/{id}/guides` (a taxon's own and inherited identification guides) and
`/v1/species/guides/{id}/document` (a stored guide document)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from pangolin_core.db import SessionDep
from pangolin_core.errors import NotFound
from pangolin_core.identity import Caller, requires_scope
from species_ref.guides import repository
from species_ref.guides.schemas import TaxonGuides
from species_ref.reference.snapshot import current_snapshot

router = APIRouter(prefix="/v1/species", tags=["guides"])

Reader = Annotated[Caller, Depends(requires_scope("species:read"))]


@router.get(
    "/taxa/{taxon_id}/guides",
    summary="Identification guides of a taxon and of its higher taxa, most specific first",
)
async def get_taxon_guides(taxon_id: int, request: Request, _: Reader) -> TaxonGuides:
    snapshot = current_snapshot(request.app.state.runtime)
    taxon = snapshot.taxa.get(taxon_id)
    if taxon is None:
        raise NotFound(f"No taxon concept with id {taxon_id}.")
    return TaxonGuides(
        taxon_id=taxon.taxon_id, full_name=taxon.full_name, guides=snapshot.guides_for(taxon)
    )


@router.get(
    "/guides/{guide_id}/document",
    summary="The document of an identification guide, with its media type",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def get_guide_document(
    guide_id: Annotated[int, Path(ge=1, le=2_147_483_647)], session: SessionDep, _: Reader
) -> Response:
    guide = await repository.get_guide(session, guide_id)
    if guide is None:
        raise NotFound(f"No identification guide with id {guide_id}.")
    if guide.document is None:
        raise NotFound(f"Guide {guide_id} is a link ({guide.url}), not a stored document.")
    return Response(
        content=guide.document,
        media_type=guide.media_type or "application/octet-stream",
        headers={"Content-Disposition": f'inline; filename="guide-{guide_id}"'},
    )
