"""Fixtures of the cross-service tests: species-ref's database loaded once per session from
its shipped checklist and SAPI restrictions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from species_ref.app import DEFINITION as SPECIES_REF
from species_ref.seed import seed
from species_ref.settings import SpeciesRefSettings


@pytest.fixture(scope="session")
def checklist_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """species-ref's database with the shipped checklist and SAPI restrictions (~10 s)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('species') / 'species.db'}"

    async def load() -> str:
        await migrations.upgrade(SPECIES_REF.migrations, url)
        message = await seed(SpeciesRefSettings(database_url=url))
        db = Database(url)  # no test wants 38k taxon events on the wire
        async with db.session() as session:
            await session.exec(sa.update(outbox).values(published_at=datetime.now(UTC)))
        await db.dispose()
        return message

    assert asyncio.run(load()).startswith("loaded 38,079 taxa")
    return url
