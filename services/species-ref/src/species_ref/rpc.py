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
from species_ref.matching.service import match_names
from species_ref.reference.snapshot import current_snapshot
from species_ref.status.service import check_country, status_from

MATCH_SUBJECT = "species.rpc.match"
STATUS_SUBJECT = "species.rpc.status"


def rpc_endpoints(runtime: ServiceRuntime) -> Sequence[RpcEndpoint[Any, Any]]:
    async def match(request: MatchRequest) -> MatchResponse:
        return match_names(current_snapshot(runtime).names, request)

    async def status(request: StatusRequest) -> StatusResponse:
        snapshot = current_snapshot(runtime)
        codes: CodeLists = runtime.extras["code_lists"]
        for n, query in enumerate(request.queries):
            check_country(query, codes, position=f"queries[{n}].country")
        return StatusResponse(
            results=[
                status_from(snapshot=snapshot, codes=codes, query=query)
                for query in request.queries
            ]
        )

    return [
        RpcEndpoint(MATCH_SUBJECT, MatchRequest, match),
        RpcEndpoint(STATUS_SUBJECT, StatusRequest, status),
    ]
