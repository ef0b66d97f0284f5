"""`species.rpc.match` for the other services (same contract as `POST /v1/species/match`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pangolin_core.contracts.species import MatchRequest, MatchResponse
from pangolin_core.messaging.rpc import RpcEndpoint
from pangolin_core.service import ServiceRuntime
from species_ref.matching.index import NameIndex
from species_ref.matching.service import match_names

MATCH_SUBJECT = "species.rpc.match"


def rpc_endpoints(runtime: ServiceRuntime) -> Sequence[RpcEndpoint[Any, Any]]:
    async def match(request: MatchRequest) -> MatchResponse:
        index: NameIndex = runtime.extras["name_index"]
        return match_names(index, request)

    return [RpcEndpoint(MATCH_SUBJECT, MatchRequest, match)]
