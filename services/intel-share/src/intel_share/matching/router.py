"""`POST /v1/intel/match`: people and companies scored against the intelligence entities the
caller may see, each score explained feature by feature."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from intel_share.matching.access import visible_to
from intel_share.matching.service import live_index, match_entities
from pangolin_core.contracts.intel import MatchQuery, MatchResult
from pangolin_core.identity import Caller, requires_scope
from pangolin_core.matching import EntityIndex

router = APIRouter(prefix="/v1/intel", tags=["matching"])


async def entity_index(request: Request) -> EntityIndex:
    return live_index(request.app.state.runtime).current()


@router.post(
    "/match",
    summary="Match a person or company against the intelligence entities you may see",
)
async def match(
    body: MatchQuery,
    caller: Annotated[Caller, Depends(requires_scope("intel:read"))],
    index: Annotated[EntityIndex, Depends(entity_index)],
) -> MatchResult:
    return match_entities(index=index, query=body, visible=visible_to(caller))
