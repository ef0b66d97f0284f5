"""Fixtures of risk-score's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server; helpers in risk_support and risk_history_support."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pangolin_core import migrations
from pangolin_core.testing import running_app
from risk_history_support import RiskApp
from risk_score.app import DEFINITION, create_app
from risk_score.settings import RiskScoreSettings
from risk_support import RiskService


@pytest.fixture
async def risk(database_url: str, nats_url: str) -> AsyncIterator[RiskService]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    # No random selection here unless a test asks: lanes must follow the profiles alone.
    settings = RiskScoreSettings(database_url=database_url, nats_url=nats_url, random_rate=0.0)
    app = create_app(settings)
    async with running_app(app) as client:
        yield RiskService(client, app, app.state.runtime.db, nats_url)


@pytest.fixture
async def risk_app(database_url: str, nats_url: str) -> AsyncIterator[RiskApp]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    app = create_app(RiskScoreSettings(database_url=database_url, nats_url=nats_url))
    async with running_app(app) as client:
        yield RiskApp(app, client)
