"""Request-reply over NATS micro endpoints: answers, typed errors, trace context."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from pangolin_core.errors import NotFound
from pangolin_core.messaging.connection import connect_nats, ensure_streams
from pangolin_core.messaging.rpc import (
    RpcClient,
    RpcEndpoint,
    RpcNoResponder,
    RpcRemoteError,
    RpcServer,
    RpcTimeout,
    RpcUnavailable,
)
from pangolin_core.telemetry import Telemetry


class MatchRequest(BaseModel):
    name: str


class MatchResponse(BaseModel):
    taxon_id: int
    name: str


ACCEPTED = {"python regius": 4455}


async def match(request: MatchRequest) -> MatchResponse:
    taxon_id = ACCEPTED.get(request.name.lower())
    if taxon_id is None:
        raise NotFound(f"no taxon named {request.name!r}")
    return MatchResponse(taxon_id=taxon_id, name=request.name)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await connect_nats(nats_url, name="rpc-test")
    yield client
    await client.close()


@pytest.fixture
async def species_rpc(nc: NATS, telemetry: Telemetry) -> AsyncIterator[RpcServer]:
    server = RpcServer(nc, telemetry, name="species-ref", version="0.1.0")
    await server.start([RpcEndpoint("species.rpc.match", MatchRequest, match)])
    yield server
    await server.stop()


async def test_a_call_gets_the_typed_answer(
    nc: NATS, telemetry: Telemetry, species_rpc: RpcServer
) -> None:
    client = RpcClient(nc, telemetry)
    answer = await client.call(
        "species.rpc.match", MatchRequest(name="Python regius"), MatchResponse
    )
    assert answer == MatchResponse(taxon_id=4455, name="Python regius")


async def test_streams_do_not_swallow_requests_on_their_domain(
    nc: NATS, telemetry: Telemetry, species_rpc: RpcServer
) -> None:
    """With the SPECIES stream declared, `species.rpc.match` still reaches the responder
    (a stream on `species.>` would store the request and answer with a publish ack)."""
    await ensure_streams(nc.jetstream())
    answer = await RpcClient(nc, telemetry).call(
        "species.rpc.match", MatchRequest(name="Python regius"), MatchResponse
    )
    assert answer.taxon_id == 4455
    info = await nc.jetstream().stream_info("SPECIES")
    assert info.state.messages == 0


async def test_a_domain_error_comes_back_typed_with_its_status(
    nc: NATS, telemetry: Telemetry, species_rpc: RpcServer
) -> None:
    client = RpcClient(nc, telemetry)
    with pytest.raises(RpcRemoteError) as caught:
        await client.call("species.rpc.match", MatchRequest(name="Pangolinus"), MatchResponse)
    assert caught.value.status == 404
    assert caught.value.extensions["remote"]["code"] == "not_found"


async def test_an_invalid_request_is_refused_by_the_responder(
    nc: NATS, telemetry: Telemetry, species_rpc: RpcServer
) -> None:
    reply = await nc.request("species.rpc.match", b'{"nom": 1}', timeout=2)
    assert reply.headers is not None and reply.headers["Nats-Service-Error-Code"] == "422"


async def test_no_responder_fails_fast_with_a_typed_error(nc: NATS, telemetry: Telemetry) -> None:
    client = RpcClient(nc, telemetry)
    started = time.monotonic()
    with pytest.raises(RpcNoResponder) as caught:
        await client.call("risk.rpc.assess", MatchRequest(name="x"), MatchResponse, timeout=10)
    assert time.monotonic() - started < 2.0, "no responder must not wait for the timeout"
    assert isinstance(caught.value, RpcUnavailable) and caught.value.status == 503


async def test_a_slow_responder_raises_a_timeout_at_the_deadline(
    nc: NATS, telemetry: Telemetry
) -> None:
    never = asyncio.Event()

    async def stuck(request: MatchRequest) -> MatchResponse:
        await never.wait()
        raise AssertionError("unreachable")

    server = RpcServer(nc, telemetry, name="risk-score", version="0.1.0")
    await server.start([RpcEndpoint("risk.rpc.assess", MatchRequest, stuck)])
    try:
        started = time.monotonic()
        with pytest.raises(RpcTimeout):
            await RpcClient(nc, telemetry).call(
                "risk.rpc.assess", MatchRequest(name="x"), MatchResponse, timeout=0.3
            )
        assert time.monotonic() - started < 2.0
    finally:
        never.set()
        await server.stop()


async def test_the_trace_continues_from_caller_to_responder(
    nc: NATS, telemetry: Telemetry, spans: InMemorySpanExporter, species_rpc: RpcServer
) -> None:
    await RpcClient(nc, telemetry).call(
        "species.rpc.match", MatchRequest(name="Python regius"), MatchResponse
    )
    finished = spans.get_finished_spans()
    (client_span,) = [s for s in finished if s.kind is SpanKind.CLIENT]
    (server_span,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.context.span_id
    assert server_span.context.trace_id == client_span.context.trace_id
