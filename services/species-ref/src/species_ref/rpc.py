"""species-ref's RPC endpoints for the other services: `species.rpc.match` and
`species.rpc.status` (the contracts of `POST /v1/species/match` and `/status`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pangolin_core.contracts.species import (
    MatchRequest,
    MatchResponse,
    StatusRequest,
    StatusResponse,
)
from pangolin_core.messaging.rpc import RpcEndpoint
from pangolin_core.service import ServiceRuntime
from species_ref.codes.service import CodeLists
from species_ref.matching.index import NameIndex
from species_ref.matching.service import match_names
from species_ref.status.service import check_country, status_of

MATCH_SUBJECT = "species.rpc.match"
STATUS_SUBJECT = "species.rpc.status"


def rpc_endpoints(runtime: ServiceRuntime) -> Sequence[RpcEndpoint[Any, Any]]:
    async def match(request: MatchRequest) -> MatchResponse:
        index: NameIndex = runtime.extras["name_index"]
        return match_names(index, request)

    async def status(request: StatusRequest) -> StatusResponse:
        index: NameIndex = runtime.extras["name_index"]
        codes: CodeLists = runtime.extras["code_lists"]
        for n, query in enumerate(request.queries):
            check_country(query, codes, position=f"queries[{n}].country")
        async with runtime.db.session(write=False) as session:
            results = [
                await status_of(session=session, index=index, codes=codes, query=query)
                for query in request.queries
            ]
        return StatusResponse(results=results)

    return [
        RpcEndpoint(MATCH_SUBJECT, MatchRequest, match),
        RpcEndpoint(STATUS_SUBJECT, StatusRequest, status),
    ]
