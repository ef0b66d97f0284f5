"""`POST /v1/intel/match`: people and companies scored against the intelligence entities the
caller may see, each score explained feature by feature. A match is a search of intelligence:
it writes an audit row (who, the query, the records answered) in the request's unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from intel_share.matching import service
from intel_share.matching.service import live_index
from pangolin_core.contracts.intel import MatchQuery, MatchResult
from pangolin_core.db import SessionDep
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
    session: SessionDep,
    caller: Annotated[Caller, Depends(requires_scope("intel:read"))],
    index: Annotated[EntityIndex, Depends(entity_index)],
) -> MatchResult:
    return await service.match_for(session=session, index=index, query=body, caller=caller)
