"""The five apps start on a real nats-server and a migrated database, and answer
/health, /ready and their OpenAPI document."""

from __future__ import annotations

import nats
import pytest

from pangolin_core import migrations
from pangolin_core.messaging.connection import STREAMS
from pangolin_core.natsserver import NatsServer
from pangolin_core.suite import APPS, SuiteApp, app_named
from pangolin_core.testing import eventually, running_app


async def stream_names(nats_url: str) -> set[str]:
    nc = await nats.connect(nats_url)
    try:
        return {
            info.config.name for info in await nc.jetstream().streams_info() if info.config.name
        }
    finally:
        await nc.close()


@pytest.mark.parametrize("suite_app", APPS, ids=[a.name for a in APPS])
async def test_an_app_is_healthy_ready_and_documented(
    suite_app: SuiteApp, database_url: str, nats_url: str
) -> None:
    await migrations.upgrade(suite_app.definition().migrations, database_url)
    module = __import__(f"{suite_app.package}.app", fromlist=["create_app"])
    app = module.create_app(suite_app.settings(nats_url=nats_url, database_url=database_url))

    async with running_app(app) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
        openapi = await client.get("/openapi.json")

    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "nats": "ok"}
    assert openapi.status_code == 200
    assert openapi.json()["info"]["title"] == app.title
    assert {s.name for s in STREAMS} <= await stream_names(nats_url)


async def test_ready_answers_503_problem_while_nats_is_down(
    sqlite_url: str, nats_url: str, nats_server: NatsServer
) -> None:
    suite_app = app_named("species-ref")
    await migrations.upgrade(suite_app.definition().migrations, sqlite_url)
    module = __import__(f"{suite_app.package}.app", fromlist=["create_app"])
    app = module.create_app(suite_app.settings(nats_url=nats_url, database_url=sqlite_url))

    async with running_app(app) as client:
        nats_server.stop()
        try:

            async def not_ready() -> bool:
                return (await client.get("/ready")).status_code == 503

            await eventually(not_ready)
            response = await client.get("/ready")
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["checks"]["database"] == "ok"
            assert response.json()["checks"]["nats"].startswith("failed")
        finally:
            nats_server.start()

        async def ready_again() -> bool:
            return (await client.get("/ready")).status_code == 200

        await eventually(ready_again, timeout=20)
