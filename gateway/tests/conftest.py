"""Fixtures of the gateway's tests: the gateway running in-process on a real database
(SQLite and PostgreSQL) and a real nats-server; the first admin client, bootstrapped through
the service layer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clients_support import RunningGateway, gateway_settings, open_gateway
from gateway.clients.service import IssuedCredentials


@pytest.fixture
async def gateway(database_url: str, nats_url: str) -> AsyncIterator[RunningGateway]:
    async with open_gateway(gateway_settings(database_url, nats_url)) as running:
        yield running


@pytest.fixture
async def admin(gateway: RunningGateway) -> IssuedCredentials:
    """The first admin client, bootstrapped through the service layer."""
    return await gateway.create_client("ops-admin", "admin", country="XX")
