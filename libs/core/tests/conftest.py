"""Fixtures for the backbone tests: a migrated service database and telemetry in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backbone_support import test_metadata
from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.connection import connect_nats, ensure_streams
from pangolin_core.suite import app_named
from pangolin_core.telemetry import Telemetry, setup_telemetry


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A database migrated like a real service's (outbox, inbox), plus the tally table."""
    await migrations.upgrade(app_named("species-ref").definition().migrations, database_url)
    database = Database(database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(test_metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter) -> Telemetry:
    return setup_telemetry("test", span_exporter=spans)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A client of the test's nats-server, with the four streams declared."""
    client = await connect_nats(nats_url, name="backbone-test")
    await ensure_streams(client.jetstream())
    yield client
    await client.close()
