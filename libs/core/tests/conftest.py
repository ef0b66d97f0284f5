"""Fixtures for the backbone tests: a migrated service database and telemetry in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backbone_support import test_metadata
from pangolin_core import migrations
from pangolin_core.db import Database
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
