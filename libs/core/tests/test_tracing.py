"""A trace crosses apps: an HTTP request in one app is the parent of the consumer span of
the event it caused in another (through the outbox, NATS headers and the consumer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Depends
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core import migrations
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import SessionDep
from pangolin_core.identity import requires_scope
from pangolin_core.messaging.consumer import ConsumerSpec
from pangolin_core.messaging.outbox import enqueue
from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.settings import ServiceSettings
from pangolin_core.suite import app_named
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import eventually, identity_headers, running_app


async def test_an_http_request_span_is_the_parent_of_the_consumer_span_in_another_app(
    nats_url: str, tmp_path: Path
) -> None:
    spans = InMemorySpanExporter()
    router = APIRouter()

    @router.post("/v1/permits/{number}/endorsements", status_code=202)
    async def endorse(
        number: str, session: SessionDep, _: object = Depends(requires_scope("permits:endorse"))
    ) -> dict[str, str]:
        event = CloudEvent(source="/permit-verify", type="permits.permit.endorsed", subject=number)
        await enqueue(session, event)
        return {"event_id": event.id}

    received: asyncio.Queue[CloudEvent] = asyncio.Queue()

    async def on_endorsed(session: AsyncSession, event: CloudEvent) -> None:
        await received.put(event)

    producer = ServiceDefinition(
        name="permit-verify",
        title="producer",
        description="",
        migrations=app_named("permit-verify").definition().migrations,
        routers=[router],
    )
    consumer = ServiceDefinition(
        name="risk-score",
        title="consumer",
        description="",
        migrations=app_named("risk-score").definition().migrations,
        consumers=lambda _rt: [
            ConsumerSpec("risk-score-permits", "PERMITS", ("permits.>",), on_endorsed)
        ],
    )
    apps = []
    for definition in (producer, consumer):
        url = f"sqlite:///{tmp_path / definition.name}.db"
        await migrations.upgrade(definition.migrations, url)
        settings = ServiceSettings(nats_url=nats_url, database_url=url)
        telemetry = setup_telemetry(definition.name, span_exporter=spans)
        apps.append(create_service_app(definition, settings, telemetry=telemetry))

    async with running_app(apps[0]) as producer_client, running_app(apps[1]):
        response = await producer_client.post(
            "/v1/permits/KE-2026-E-000123/endorsements",
            headers=identity_headers("permits:endorse"),
        )
        assert response.status_code == 202, response.text
        event = await asyncio.wait_for(received.get(), timeout=10)
        assert event.id == response.json()["event_id"]

        def consumer_span_finished() -> object:
            return [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]

        async def check() -> object:
            return consumer_span_finished()

        (consumer_span,) = await eventually(check)

    (request_span,) = [
        s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.SERVER and s.resource.attributes["service.name"] == "permit-verify"
    ]
    assert consumer_span.resource.attributes["service.name"] == "risk-score"
    assert consumer_span.parent is not None
    assert consumer_span.parent.span_id == request_span.context.span_id
    assert consumer_span.context.trace_id == request_span.context.trace_id
