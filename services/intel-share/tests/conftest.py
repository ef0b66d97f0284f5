"""Fixtures of intel-share's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server, with the entities of the match index given by the test
(the records' own tables come with intel-a's branch)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from intel_match_support import EntitiesByRecord, IntelShare

from intel_share.app import DEFINITION, create_app
from intel_share.settings import IntelShareSettings
from pangolin_core import migrations
from pangolin_core.testing import running_app


@pytest.fixture
async def intel_share(database_url: str, nats_url: str) -> AsyncIterator[IntelShare]:
    """intel-share whose index loads once the test sets `source.ready`."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    source = EntitiesByRecord()
    settings = IntelShareSettings(database_url=database_url, nats_url=nats_url)
    app = create_app(settings, entity_source=source)
    async with running_app(app) as client:
        yield IntelShare(app, client, source)
