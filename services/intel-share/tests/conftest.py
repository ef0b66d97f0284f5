"""Fixtures of intel-share's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server; `intel_share` gives the match index the entities the test
sets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import intel_match_support
from intel_share.app import DEFINITION, create_app
from intel_share.settings import IntelShareSettings
from intel_support import IntelShare
from pangolin_core import migrations
from pangolin_core.testing import running_app


@pytest.fixture
async def intel(database_url: str, nats_url: str) -> AsyncIterator[IntelShare]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    app = create_app(IntelShareSettings(database_url=database_url, nats_url=nats_url))
    async with running_app(app) as client:
        yield IntelShare(client, app.state.runtime.db)


@pytest.fixture
async def intel_share(
    database_url: str, nats_url: str
) -> AsyncIterator[intel_match_support.IntelShare]:
    """intel-share whose index loads once the test sets `source.ready`."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    source = intel_match_support.EntitiesByRecord()
    settings = IntelShareSettings(database_url=database_url, nats_url=nats_url)
    app = create_app(settings, entity_source=source)
    async with running_app(app) as client:
        yield intel_match_support.IntelShare(app, client, source)
