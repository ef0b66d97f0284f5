"""The demo seed: five records through the records service (events in the outbox), the
watchlists a demo shows, matching across scripts once the service runs; seeding twice
seeds once."""

from __future__ import annotations

from typing import Any

from intel_share.app import DEFINITION, create_app
from intel_share.seed import COMPANY, TRADER, seed
from intel_share.settings import IntelShareSettings
from intel_support import KE_CUSTOMS, IntelShare
from pangolin_core import migrations
from pangolin_core.testing import eventually, running_app


async def test_seeding_twice_seeds_once_and_the_demo_matches(
    database_url: str, nats_url: str
) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = IntelShareSettings(database_url=database_url, nats_url=nats_url)
    assert (await seed(settings)).startswith("added 5 ")
    assert "none added" in await seed(settings)

    app = create_app(settings)
    async with running_app(app) as client:
        intel = IntelShare(client, app.state.runtime.db)
        assert await intel.count("intel_record") == 5
        entries = [
            entry
            for event in await intel.outbox_events("intel.watchlist.changed")
            for entry in event["data"]["entries"]
        ]
        assert len(await intel.outbox_events("intel.record.published")) == 5
        kinds: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            kinds.setdefault(entry["kind"], []).append(entry)
        trader_names = [name for entry in kinds["trader"] for name in entry["names"]]
        assert "Нгуен Ван Хунг" in trader_names
        assert ["AE"] in [entry["hubs"] for entry in kinds["hub"]]
        assert {"spare parts", "machine parts"} <= {e["names"][0] for e in kinds["concealment"]}

        async def matched(name: str) -> list[str]:
            response = await intel.post(KE_CUSTOMS, "/v1/intel/match", {"name": name})
            if response.status_code == 503:  # the index is still being built
                return []
            assert response.status_code == 200, response.text
            return [m["record_id"] for m in response.json()["matches"]]

        async def hung() -> list[str]:
            return await matched("Hung Nguyen Van")

        assert await eventually(hung, timeout=60) == [str(TRADER)]
        assert await matched("Нгуен Ван Хунг") == [str(TRADER)]
        assert await matched("Golden Ivory Trading Company Limited") == [str(COMPANY)]
