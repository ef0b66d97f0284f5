"""The species read model is seeded by replaying the SPECIES stream from its start: events
published before risk-score ever ran are known to its first assessment."""

from __future__ import annotations

from typing import Any

import nats

from pangolin_core import migrations
from pangolin_core.contracts.species import ListingChanged, TaxonUpserted
from pangolin_core.messaging.connection import ensure_streams
from pangolin_core.testing import eventually, running_app
from risk_score.app import DEFINITION, create_app
from risk_score.settings import RiskScoreSettings
from risk_support import ANALYST, ASSESSOR, declaration


async def test_events_from_before_the_start_are_replayed(database_url: str, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        for data in (
            TaxonUpserted(
                taxon_id=7,
                full_name="Python regius",
                rank="SPECIES",
                kingdom="Animalia",
                appendices=["II"],
                source="test",
            ),
            ListingChanged(
                taxon_id=7,
                full_name="Python regius",
                appendices=["I"],
                previous_appendices=["II"],
                added=[],
                removed=[],
                source="test",
            ),
        ):
            event = data.to_event(source="/test")
            await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()

    await migrations.upgrade(DEFINITION.migrations, database_url)
    app = create_app(RiskScoreSettings(database_url=database_url, nats_url=nats_url, random_rate=0))
    async with running_app(app) as client:
        response = await client.post(
            "/v1/risk/profiles",
            json={
                "name": "Appendix I",
                "criteria": {"field": "appendices", "in": ["I"]},
                "points": 35,
                "owner": "test",
                "status": "active",
            },
            headers=ANALYST,
        )
        assert response.status_code == 201, response.text

        async def fired() -> dict[str, Any] | None:
            answer = await client.post(
                "/v1/risk/assessments", json={"declaration": declaration()}, headers=ASSESSOR
            )
            body: dict[str, Any] = answer.json()
            return body if body["reasons"] else None

        answer = await eventually(fired, timeout=5)
        assert answer["lane"] == "yellow"  # the latest event (Appendix I) won
