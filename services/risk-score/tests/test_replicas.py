"""Two replicas on one database and one NATS: what one of them changes (a profile saved
through it, a watchlist event its consumer took) reaches the other's memory by the revision
poll, within a second."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.contracts.intel import Originator, WatchlistChanged, WatchlistEntry
from pangolin_core.testing import eventually, running_app
from risk_score.app import DEFINITION, create_app
from risk_score.settings import RiskScoreSettings
from risk_support import ANALYST, ASSESSOR, RiskService, declaration, profile


@pytest.fixture
async def replicas(database_url: str, nats_url: str) -> AsyncIterator[list[RiskService]]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = RiskScoreSettings(database_url=database_url, nats_url=nats_url, random_rate=0.0)
    first, second = create_app(settings), create_app(settings)
    async with running_app(first) as a, running_app(second) as b:
        yield [
            RiskService(a, first, first.state.runtime.db, nats_url),
            RiskService(b, second, second.state.runtime.db, nats_url),
        ]


async def assess(client: AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/v1/risk/assessments", json={"declaration": body, "findings": []}, headers=ASSESSOR
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_profile_saved_on_one_replica_scores_on_the_other(
    replicas: list[RiskService],
) -> None:
    one, other = replicas
    body = declaration(countries={"export": "KE", "import": "VN", "transit": ["AE"]})
    assert (await assess(other.client, body))["reasons"] == []
    saved = time.monotonic()
    response = await one.client.post(
        "/v1/risk/profiles",
        json=profile(criteria={"transit_through": ["AE"]}, points=40),
        headers=ANALYST,
    )
    assert response.status_code == 201
    assert (await assess(one.client, body))["score"] == 40  # at once on the replica that saved

    async def fired() -> dict[str, Any] | None:
        answer = await assess(other.client, body)
        return answer if answer["reasons"] else None

    assert (await eventually(fired, timeout=5))["score"] == 40
    assert time.monotonic() - saved < 1.5


async def test_a_watchlist_event_reaches_both_replicas(replicas: list[RiskService]) -> None:
    body = declaration(countries={"export": "KE", "import": "VN", "transit": ["SG"]})
    await replicas[0].publish(
        WatchlistChanged(
            record_id="rec-9",
            record_version=1,
            record_type="alert",
            title="Transit hub for ivory",
            originator=Originator(agency="WCO", country="BE"),
            tlp="green",
            confidence=100,
            entries=[WatchlistEntry(entry_id="rec-9:hub:1", kind="hub", hubs=["SG"])],
        )
    )
    for replica in replicas:

        async def hit(client: AsyncClient = replica.client) -> dict[str, Any] | None:
            answer = await assess(client, body)
            return answer if answer["reasons"] else None

        answer = await eventually(hit, timeout=5)
        assert answer["reasons"][0]["title"] == "Intelligence hit (hub)"
