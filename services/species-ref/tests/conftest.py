"""Fixtures of species-ref's tests: the real checklist, loaded once per test session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
import sqlalchemy as sa
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.natsserver import NatsServer
from pangolin_core.testing import running_app
from species_ref.app import DEFINITION, create_app
from species_ref.seed import seed
from species_ref.settings import SpeciesRefSettings


@pytest.fixture(scope="session")
def loaded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite database with the whole checklist, shared by the read-only tests
    (loaded in its own event loop: the fixture keeps nothing but the URL)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('species') / 'species.db'}"

    async def load() -> str:
        await migrations.upgrade(DEFINITION.migrations, url)
        message = await seed(SpeciesRefSettings(database_url=url))
        # The events are checked as rows; no test wants 38k of them on the wire.
        db = Database(url)
        async with db.session() as session:
            await session.exec(sa.update(outbox).values(published_at=datetime.now(UTC)))
        await db.dispose()
        return message

    assert asyncio.run(load()).startswith("loaded 38,079 taxa")
    return url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(loaded_url: str, nats_server: NatsServer) -> AsyncIterator[AsyncClient]:
    """species-ref over the loaded database, one per test module (its start-up builds the
    name index: ~3 s). Modules using it run their tests in the module's event loop."""
    app = create_app(SpeciesRefSettings(nats_url=nats_server.url, database_url=loaded_url))
    async with running_app(app) as client:
        yield client
