"""Every app's migrations run up and down, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from pangolin_core import migrations
from pangolin_core.db import create_engine
from pangolin_core.suite import APPS, SuiteApp
from suite_support import table_names


@pytest.mark.parametrize("app", APPS, ids=[a.name for a in APPS])
async def test_migrations_run_up_and_down(app: SuiteApp, database_url: str) -> None:
    script_location = app.definition().migrations

    await migrations.upgrade(script_location, database_url)
    assert {"outbox", "inbox", "alembic_version"} <= await table_names(database_url)
    assert await migrations.current_revision(database_url) == migrations.head_revision(
        script_location
    )

    await migrations.upgrade(script_location, database_url)  # idempotent at head
    await migrations.downgrade(script_location, database_url, "base")
    assert await table_names(database_url) <= {"alembic_version"}
    assert await migrations.current_revision(database_url) is None

    await migrations.upgrade(script_location, database_url)
    assert {"outbox", "inbox"} <= await table_names(database_url)


@pytest.mark.parametrize("app", APPS, ids=[a.name for a in APPS])
async def test_the_migrated_schema_matches_the_models(app: SuiteApp, sqlite_url: str) -> None:
    """No model change without its migration: autogenerate finds nothing to do at head."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pangolin_core.messaging.tables import messaging_metadata

    await migrations.upgrade(app.definition().migrations, sqlite_url)
    module = __import__(f"{app.package}.tables", fromlist=["metadata"])
    __import__(f"{app.package}.app")  # the app imports every model of the service
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c), [module.metadata, messaging_metadata]
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
