"""intel-share's RPC endpoint for the other services: `intel.rpc.match` (the contract of
`POST /v1/intel/match`, for this instance's own services: see `visible_to_services`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intel_share.matching.access import visible_to_services
from intel_share.matching.service import live_index, match_entities
from pangolin_core.contracts.intel import MATCH_SUBJECT, MatchQuery, MatchResult
from pangolin_core.messaging.rpc import RpcEndpoint
from pangolin_core.service import ServiceRuntime


def rpc_endpoints(runtime: ServiceRuntime) -> Sequence[RpcEndpoint[Any, Any]]:
    async def match(query: MatchQuery) -> MatchResult:
        index = live_index(runtime).current()
        return match_entities(index=index, query=query, visible=visible_to_services)

    return [RpcEndpoint(MATCH_SUBJECT, MatchQuery, match)]
