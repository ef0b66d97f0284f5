"""What the gateway puts on the wire to a service and back: checked against a loopback HTTP
server that records each request it receives (it stands where species-ref would)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.app import DEFINITION, create_app
from gateway.clients.schemas import NewClient
from gateway.clients.service import IssuedCredentials, create_client
from gateway.settings import GatewaySettings
from pangolin_core import migrations
from pangolin_core.identity import IdentityVerifier
from pangolin_core.natsserver import free_port
from pangolin_core.settings import DEV_IDENTITY_PUBLIC_KEY
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import running_app

BIG = bytes(range(256)) * (5 * 4096)  # 5 MiB, streamed back


@dataclass
class Recorder:
    """A service stand-in: records requests; with `X-Test-Drop` it closes the connection of
    the first such request unanswered."""

    url: str = ""
    requests: list[web.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    dropped: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.bodies.append(await request.read())
        if "X-Test-Drop" in request.headers and self.dropped == 0:
            self.dropped += 1
            assert request.transport is not None
            request.transport.close()  # as a service that died mid-request
            return web.Response()
        if request.path.endswith("/big"):
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            await response.prepare(request)
            for start in range(0, len(BIG), 65536):
                await response.write(BIG[start : start + 65536])
            await response.write_eof()
            return response
        return web.json_response(
            {"ok": True}, headers={"Connection": "close", "X-Pangolin-Secret": "internal"}
        )


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recorder = Recorder()
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    recorder.url = f"http://127.0.0.1:{port}"
    yield recorder
    await runner.cleanup()


@dataclass
class Wired:
    client: httpx.AsyncClient
    credentials: IssuedCredentials
    spans: InMemorySpanExporter
    ma_credentials: IssuedCredentials

    @property
    def key(self) -> dict[str, str]:
        return {"X-API-Key": self.credentials.api_key}


@pytest.fixture
async def wired(recorder: Recorder, nats_url: str, tmp_path: Path) -> AsyncIterator[Wired]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await migrations.upgrade(DEFINITION.migrations, url)
    spans = InMemorySpanExporter()
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=url,
        species_ref_url=recorder.url,
        permit_verify_url=recorder.url,
        upstream_retries=1,
    )
    app = create_app(settings, telemetry=setup_telemetry("gateway", span_exporter=spans))
    async with running_app(app) as client:
        async with app.state.runtime.db.session(write=True) as session:
            credentials = await create_client(
                session=session,
                spec=NewClient(name="ke-sw", country="KE", roles=["single_window"]),
            )
            ma_credentials = await create_client(
                session=session,
                spec=NewClient(name="ke-ma", country="KE", roles=["management_authority"]),
            )
        yield Wired(client, credentials, spans, ma_credentials)


async def test_the_service_gets_the_signed_identity_and_none_of_the_partners_secrets(
    wired: Wired, recorder: Recorder
) -> None:
    response = await wired.client.get(
        "/v1/species/taxa/%C3%A9t%C3%A9?name=Python%20regius&limit=5",
        headers={
            **wired.key,
            "Authorization": "Basic c2VjcmV0",  # not a bearer: the API key authenticates
            "Cookie": "session=1",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "1",
            "Accept": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    seen = recorder.requests[-1]
    assert seen.raw_path == "/v1/species/taxa/%C3%A9t%C3%A9?name=Python%20regius&limit=5"
    for name in ("Authorization", "X-API-Key", "Cookie", "X-Hop"):
        assert name not in seen.headers, name
    assert seen.headers["Accept"] == "application/json"
    caller = IdentityVerifier([DEV_IDENTITY_PUBLIC_KEY]).verify(seen.headers["X-Pangolin-Identity"])
    assert caller.client_id == wired.credentials.client.id
    assert caller.country == "KE"
    assert caller.roles == {"single_window"}
    assert caller.scopes == {"permits:verify", "permits:endorse", "species:read"}
    # A request id was made up and travels both ways, inside the identity too.
    request_id = seen.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert response.headers["x-request-id"] == request_id
    assert caller.request_id == request_id
    # The service's own internal and hop-by-hop headers do not come out.
    assert "x-pangolin-secret" not in response.headers
    assert response.headers.get("connection") != "close"


async def test_the_trace_continues_from_the_gateway_into_the_service(
    wired: Wired, recorder: Recorder
) -> None:
    await wired.client.get("/v1/species/codes/terms", headers=wired.key)
    traceparent = recorder.requests[-1].headers["traceparent"]
    _version, trace_id, parent_id, _flags = traceparent.split("-")
    spans = wired.spans.get_finished_spans()
    server = next(s for s in spans if s.kind is SpanKind.SERVER)
    client = next(s for s in spans if s.kind is SpanKind.CLIENT and "species-ref" in s.name)
    assert f"{server.context.trace_id:032x}" == trace_id
    assert f"{client.context.span_id:016x}" == parent_id
    assert client.parent is not None and client.parent.span_id == server.context.span_id


async def test_bodies_stream_both_ways(wired: Wired, recorder: Recorder) -> None:
    payload = b'{"names": [' + b'"Python regius",' * 70_000 + b'""]}'  # ~1.1 MB, over the buffer

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 100_000):
            yield payload[start : start + 100_000]

    sent = await wired.client.post(
        "/v1/species/match",
        content=chunks(),
        headers={**wired.key, "Content-Type": "application/json"},
    )
    assert sent.status_code == 200, sent.text
    assert recorder.bodies[-1] == payload
    big = await wired.client.get("/v1/species/big", headers=wired.key)
    assert big.status_code == 200
    assert big.content == BIG


async def test_only_idempotent_calls_are_retried_after_a_connection_error(
    wired: Wired, recorder: Recorder
) -> None:
    drop = {**wired.key, "X-Test-Drop": "1"}
    read = await wired.client.get("/v1/species/codes/terms", headers=drop)
    assert read.status_code == 200  # the second attempt answered
    assert len(recorder.requests) == 2

    recorder.dropped = 0
    write = await wired.client.post("/v1/verifications", json={}, headers=drop)
    assert write.status_code == 502  # a POST may have been applied: never sent twice
    assert write.json()["code"] == "upstream_unreachable"
    assert len(recorder.requests) == 3


async def test_a_citesepermit_xml_post_and_an_xml_accept_reach_permit_verify_as_sent(
    wired: Wired, recorder: Recorder
) -> None:
    ma = {"X-API-Key": wired.ma_credentials.api_key}
    message = b'<?xml version="1.0"?><CITESEPermit xmlns="urn:x">\xc3\xa9</CITESEPermit>'
    for content_type in ("application/xml", "text/xml; charset=utf-8"):
        posted = await wired.client.post(
            "/v1/permits", content=message, headers={**ma, "Content-Type": content_type}
        )
        assert posted.status_code == 200, posted.text  # the recorder's answer
        assert recorder.bodies[-1] == message
        assert recorder.requests[-1].headers["Content-Type"] == content_type
    read = await wired.client.get("/v1/permits/p-1", headers={**ma, "Accept": "application/xml"})
    assert read.status_code == 200
    assert recorder.requests[-1].headers["Accept"] == "application/xml"
    # Other permit routes still take JSON only.
    refused = await wired.client.post(
        "/v1/permits/p-1/status", content=message, headers={**ma, "Content-Type": "application/xml"}
    )
    assert refused.status_code == 415
