"""species-ref over NATS: the one client that issue and verification both use
(`species.rpc.status` in one batch with a timeout; `species.rpc.match` to explain a refusal)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from pydantic import ValidationError

from pangolin_core.contracts.species import (
    MatchRequest,
    MatchResponse,
    NameMatch,
    NameQuery,
    SpeciesStatus,
    StatusQuery,
    StatusRequest,
    StatusResponse,
)
from pangolin_core.errors import PangolinError
from pangolin_core.messaging.rpc import RpcClient

log = structlog.get_logger(__name__)

STATUS_SUBJECT = "species.rpc.status"
MATCH_SUBJECT = "species.rpc.match"


async def species_statuses(
    *, rpc: RpcClient, queries: list[StatusQuery], timeout: float
) -> list[SpeciesStatus] | None:
    """species-ref's answers in query order, or None when it did not answer."""
    try:
        response = await rpc.call(
            STATUS_SUBJECT, StatusRequest(queries=queries), StatusResponse, timeout=timeout
        )
    except (PangolinError, ValidationError) as exc:
        log.warning("species_ref_unavailable", error=str(exc))
        return None
    if len(response.results) != len(queries):
        log.warning("species_ref_answer_short", asked=len(queries), got=len(response.results))
        return None
    return response.results


async def name_matches(
    *, rpc: RpcClient, names: Sequence[str], timeout: float
) -> list[NameMatch] | None:
    """species-ref's matches of the names (with their alternatives), or None when it did
    not answer."""
    request = MatchRequest(names=[NameQuery(name=name) for name in names])
    try:
        response = await rpc.call(MATCH_SUBJECT, request, MatchResponse, timeout=timeout)
    except (PangolinError, ValidationError) as exc:
        log.warning("species_ref_unavailable", error=str(exc))
        return None
    if len(response.results) != len(names):
        return None
    return response.results
