"""The gateway under faults and limits, against the real services running as processes:
an upstream killed and back, bodies too large or of the wrong type, bursts over the rate
limit (one gateway, and two gateway processes sharing one budget in NATS KV)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from gateway.proxy.breaker import BreakerState
from gateway.state import gateway_state
from gateway_support import Services, gateway, gateway_process, new_client, running_services
from pangolin_core.cli import cli
from pangolin_core.contracts.roles import Role
from pangolin_core.natsserver import free_port
from pangolin_core.testing import eventually
from suite_support import five_free_ports

CODES = "/v1/species/codes/purposes"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with running_services(tmp_path_factory.mktemp("services")) as running:
        yield running


async def test_a_dead_upstream_opens_the_breaker_and_traffic_comes_back_by_itself(
    services: Services, tmp_path: Path
) -> None:
    species = services.apps["species-ref"]
    async with gateway(services, tmp_path, breaker_failures=3, breaker_reset_seconds=0.5) as (
        client,
        app,
    ):
        issued = await new_client(app, Role.SINGLE_WINDOW)
        key = {"X-API-Key": issued.api_key}
        assert (await client.get(CODES, headers=key)).status_code == 200
        breaker = gateway_state(app).upstreams["species-ref"].breaker

        species.kill()
        try:
            unreachable = await client.get(CODES, headers=key)
            assert unreachable.status_code in (502, 503)
            assert unreachable.headers["content-type"] == "application/problem+json"

            async def breaker_open() -> bool:
                if breaker.state is not BreakerState.OPEN:
                    await client.get(CODES, headers=key)
                return breaker.state is BreakerState.OPEN

            await eventually(breaker_open, timeout=10)
            started = time.perf_counter()
            refused = await client.get(CODES, headers=key)
            elapsed = time.perf_counter() - started
            assert refused.status_code == 503
            assert refused.json()["code"] == "upstream_unavailable"
            assert int(refused.headers["retry-after"]) >= 1
            assert elapsed < 0.1, f"503 took {elapsed * 1000:.1f} ms with the breaker open"
            # The other upstreams are not affected.
            other = await client.post("/v1/verifications", json={}, headers=key)
            assert other.status_code == 422  # permit-verify answered: an empty declaration
            assert other.headers["via"] == "1.1 pangolin-gateway"
        finally:
            species.start()

        async def recovered() -> bool:
            return (await client.get(CODES, headers=key)).status_code == 200

        await eventually(recovered, timeout=10)
        assert breaker.state is BreakerState.CLOSED


async def test_bodies_too_large_or_of_the_wrong_type_never_reach_the_service(
    services: Services, tmp_path: Path
) -> None:
    async with gateway(services, tmp_path) as (client, app):
        issued = await new_client(app, Role.SINGLE_WINDOW)
        key = {"X-API-Key": issued.api_key}
        ten_mb = b"[" + b'"Python regius",' * (10 * 1024 * 1024 // 16) + b'""]'

        declared = await client.post(
            "/v1/species/match", content=ten_mb, headers={**key, "Content-Type": "application/json"}
        )

        async def chunks() -> Any:
            for start in range(0, len(ten_mb), 256 * 1024):
                yield ten_mb[start : start + 256 * 1024]

        streamed = await client.post(
            "/v1/species/match",
            content=chunks(),
            headers={**key, "Content-Type": "application/json"},
        )
        wrong_type = await client.post(
            "/v1/species/match", content=b"name=x", headers={**key, "Content-Type": "text/plain"}
        )
        no_type = await client.post("/v1/species/match", content=b"{}", headers=key)
        wrong_method = await client.put("/v1/verifications", json={}, headers=key)
        nowhere = await client.get("/v1/species-x", headers=key)

    assert declared.status_code == 413, declared.text
    assert declared.json()["code"] == "payload_too_large"
    assert streamed.status_code == 413, streamed.text
    assert wrong_type.status_code == 415
    assert "application/json" in wrong_type.json()["detail"]
    assert no_type.status_code == 415
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, HEAD, POST"
    assert nowhere.status_code == 404
    for response in (declared, streamed, wrong_type, no_type, wrong_method):
        assert "via" not in response.headers


async def test_a_burst_over_the_budget_gets_429_then_recovers(
    services: Services, tmp_path: Path
) -> None:
    async with gateway(services, tmp_path) as (client, app):
        # One token every 5 s: the eight calls below take far less, even on a busy machine.
        issued = await new_client(app, Role.SINGLE_WINDOW, rate=0.2, burst=5)
        key = {"X-API-Key": issued.api_key}
        answers = [await client.get(CODES, headers=key) for _ in range(8)]
        statuses = [a.status_code for a in answers]
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429] * 3
        refused = answers[5]
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert "q=5" in refused.headers["ratelimit-policy"]
        assert "r=0" in refused.headers["ratelimit"]

        async def admitted_again() -> bool:
            return (await client.get(CODES, headers=key)).status_code == 200

        await eventually(admitted_again, timeout=10, interval=0.2)


async def test_requests_are_audited_with_client_route_status_and_request_id(
    services: Services, tmp_path: Path
) -> None:
    async with gateway(services, tmp_path) as (client, app):
        admin = await new_client(app, Role.ADMIN)
        reader = await new_client(app, Role.SINGLE_WINDOW)
        await client.get(CODES, headers={"X-API-Key": reader.api_key, "X-Request-ID": "r-1"})
        await client.post("/v1/permits", json={}, headers={"X-API-Key": reader.api_key})
        await client.get(CODES)
        await gateway_state(app).audit.flush()  # type: ignore[attr-defined]
        page = await client.get(
            "/v1/admin/audit", params={"limit": 10}, headers={"X-API-Key": admin.api_key}
        )
    assert page.status_code == 200, page.text
    entries = {(e["method"], e["route"], e["status"]): e for e in page.json()["items"]}
    read = entries[("GET", "/v1/species/**", 200)]
    assert read["client_id"] == reader.client.id
    assert read["country"] == "KE"
    assert read["request_id"] == "r-1"
    assert read["upstream"] == "species-ref"
    assert entries[("POST", "/v1/permits", 403)]["client_id"] == reader.client.id
    assert entries[("GET", CODES, 401)]["client_id"] is None


@pytest.mark.timeout(180)
async def test_two_gateway_processes_sharing_the_kv_budget_admit_no_more_than_it(
    services: Services, tmp_path: Path
) -> None:
    """Each gateway alone would admit the whole burst; together they admit it once."""
    runner = CliRunner()
    created = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["clients", "create", "--name", "sw", "--country", "KE", "--role", "single_window",
         "--data-dir", str(tmp_path), "--json"],
        env={"PANGOLIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"},
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    api_key = json.loads(created.stdout)["api_key"]
    limits = '{"single_window": {"rate": 0.001, "burst": 20}}'
    first_port, second_port = five_free_ports(), free_port()
    gateways = [
        gateway_process(
            tmp_path, services, port, rate_limit_backend="nats", role_rate_limits=limits
        )
        for port in (first_port, second_port)
    ]
    try:
        for process in gateways:
            await asyncio.to_thread(process.start)
        async with httpx.AsyncClient(timeout=10) as client:
            calls = [
                client.get(gateways[i % 2].url + CODES, headers={"X-API-Key": api_key})
                for i in range(60)
            ]
            statuses = [r.status_code for r in await asyncio.gather(*calls)]
    finally:
        for process in gateways:
            process.stop()
    assert statuses.count(200) == 20
    assert statuses.count(429) == 40
