"""`POST /v1/species/match`: names as a customs declaration writes them, to CITES taxa."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from pangolin_core.contracts.species import MatchRequest, MatchResponse
from pangolin_core.identity import Caller, requires_scope
from species_ref.matching.index import NameIndex
from species_ref.matching.service import match_names
from species_ref.reference.snapshot import current_snapshot

router = APIRouter(prefix="/v1/species", tags=["matching"])


async def name_index(request: Request) -> NameIndex:
    return current_snapshot(request.app.state.runtime).names


@router.post("/match", summary="Match up to 1,000 names to accepted CITES taxa")
async def match(
    body: MatchRequest,
    _: Annotated[Caller, Depends(requires_scope("species:read"))],
    index: Annotated[NameIndex, Depends(name_index)],
) -> MatchResponse:
    return match_names(index, body)
