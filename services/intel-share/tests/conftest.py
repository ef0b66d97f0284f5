"""Fixtures of intel-share's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
