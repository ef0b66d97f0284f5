"""`GET /v1/admin/audit` through the real gateway app: admins only, filters, cursor paging."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import DEFINITION, create_app
from gateway.audit.writer import BatchAuditWriter
from gateway.clients.schemas import NewClient
from gateway.clients.service import IssuedCredentials, create_client
from gateway.settings import GatewaySettings
from gateway.state import AuditRecord, gateway_state
from pangolin_core import migrations
from pangolin_core.contracts.roles import Role
from pangolin_core.testing import running_app

# Seeded entries lie in January; the gateway's own audit of the test's calls is "now".
T0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
BEFORE_NOW = {"until": "2026-02-01T00:00:00Z"}


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    admin: IssuedCredentials
    customs: IssuedCredentials

    def as_admin(self) -> dict[str, str]:
        return {"X-API-Key": self.admin.api_key}

    async def audit(self, **params: Any) -> httpx.Response:
        return await self.client.get("/v1/admin/audit", params=params, headers=self.as_admin())

    async def seed(self, *entries: AuditRecord) -> None:
        writer = gateway_state(self.app).audit
        assert isinstance(writer, BatchAuditWriter)
        for entry in entries:
            writer.record(entry)
        await writer.flush()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def new_client(app: FastAPI, name: str, role: Role) -> IssuedCredentials:
    async with app.state.runtime.db.session() as session:
        return await create_client(
            session=session, spec=NewClient(name=name, country="KE", roles=[role])
        )


@pytest.fixture
async def gateway(database_url: str, nats_url: str) -> AsyncIterator[Gateway]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    nowhere = closed_port_url()
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        species_ref_url=nowhere,
        permit_verify_url=nowhere,
        risk_score_url=nowhere,
        intel_share_url=nowhere,
        audit_flush_seconds=60,  # the tests flush
    )
    app = create_app(settings)
    async with running_app(app) as client:
        admin = await new_client(app, "operator", Role.ADMIN)
        customs = await new_client(app, "ke-customs", Role.CUSTOMS)
        yield Gateway(client, app, admin, customs)


def entry(minute: int, client_id: str | None = "c-1", status: int = 200, **kw: Any) -> AuditRecord:
    return AuditRecord(
        at=T0 + timedelta(minutes=minute),
        request_id=f"req-{minute}-{client_id}-{status}",
        method=kw.pop("method", "GET"),
        path=kw.pop("path", "/v1/species/taxa/1"),
        route=kw.pop("route", "/v1/species/**"),
        status=status,
        latency_ms=kw.pop("latency_ms", 2.5),
        client_id=client_id,
        country=kw.pop("country", "KE" if client_id else None),
        upstream=kw.pop("upstream", "species-ref"),
    )


async def test_an_admin_reads_the_trail_newest_first_as_stored(gateway: Gateway) -> None:
    await gateway.seed(
        entry(0),
        entry(1, client_id=None, status=401, upstream=None, route="/v1/species/**"),
        entry(2, status=503, method="POST", path="/v1/permits", route="/v1/permits"),
    )

    response = await gateway.audit(**BEFORE_NOW)

    assert response.status_code == 200
    page = response.json()
    assert page["next"] is None
    newest = page["items"][0]
    assert {k: v for k, v in newest.items() if k != "id"} == {
        "at": "2026-01-10T08:02:00Z",
        "request_id": "req-2-c-1-503",
        "client_id": "c-1",
        "country": "KE",
        "method": "POST",
        "path": "/v1/permits",
        "route": "/v1/permits",
        "upstream": "species-ref",
        "status": 503,
        "latency_ms": 2.5,
    }
    assert [i["request_id"] for i in page["items"]] == [
        "req-2-c-1-503",
        "req-1-None-401",
        "req-0-c-1-200",
    ]
    assert page["items"][1]["client_id"] is None and page["items"][1]["upstream"] is None


async def test_filters_by_client_time_range_and_status(gateway: Gateway) -> None:
    await gateway.seed(
        entry(0, client_id="c-1"),
        entry(10, client_id="c-2"),
        entry(20, client_id="c-1", status=403),
        entry(30, client_id="c-1"),
    )

    async def ids(**params: Any) -> list[str]:
        response = await gateway.audit(**{**BEFORE_NOW, **params})
        assert response.status_code == 200, response.text
        return [i["request_id"] for i in response.json()["items"]]

    assert await ids(client_id="c-2") == ["req-10-c-2-200"]
    assert await ids(client_id="c-1") == ["req-30-c-1-200", "req-20-c-1-403", "req-0-c-1-200"]
    # `since` inclusive, `until` exclusive, offsets honoured (09:20+01:00 is 08:20Z).
    assert await ids(since="2026-01-10T08:10:00Z", until="2026-01-10T09:30:00+01:00") == [
        "req-20-c-1-403",
        "req-10-c-2-200",
    ]
    assert await ids(status=403) == ["req-20-c-1-403"]
    assert await ids(client_id="c-1", status=200, since="2026-01-10T08:00:00Z") == [
        "req-30-c-1-200",
        "req-0-c-1-200",
    ]
    assert await ids(client_id="nobody") == []


async def test_the_cursor_walks_every_entry_once_newest_first(gateway: Gateway) -> None:
    # Two entries per minute: the id breaks the tie, the later one first.
    seeded = [entry(minute, client_id=f"c-{n}") for minute in range(5) for n in (1, 2)]
    await gateway.seed(*seeded)

    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {**BEFORE_NOW, "limit": 3}
    while True:
        response = await gateway.audit(**params)
        assert response.status_code == 200
        page = response.json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [i["request_id"] for i in page["items"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]

    assert pages == 4
    assert seen == [e.request_id for e in reversed(seeded)]


async def test_the_cursor_keeps_the_filters_it_is_used_with(gateway: Gateway) -> None:
    await gateway.seed(*(entry(m, client_id="c-1" if m % 2 else "c-2") for m in range(6)))
    first = (await gateway.audit(client_id="c-1", limit=2, **BEFORE_NOW)).json()
    second = (
        await gateway.audit(client_id="c-1", limit=2, cursor=first["next"], **BEFORE_NOW)
    ).json()
    assert [i["request_id"] for i in first["items"] + second["items"]] == [
        "req-5-c-1-200",
        "req-3-c-1-200",
        "req-1-c-1-200",
    ]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-01-10T08:00:00"}, "since"),  # no offset: which time zone?
        ({"until": "2026-01-10T08:00:00"}, "until"),
        ({"since": "2026-01-10T08:00:00Z", "until": "2026-01-10T08:00:00Z"}, "until"),
        ({"since": "2026-01-10T09:00:00Z", "until": "2026-01-10T08:00:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"status": 42}, "status"),
    ],
)
async def test_bad_filters_are_422_problems(
    gateway: Gateway, params: dict[str, Any], field: str
) -> None:
    response = await gateway.audit(**params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJhdCI6MX0"])  # the second: {"at":1}
async def test_a_cursor_that_is_not_ours_is_400(gateway: Gateway, cursor: str) -> None:
    response = await gateway.audit(cursor=cursor)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


async def test_the_limit_is_100_by_default(gateway: Gateway) -> None:
    await gateway.seed(*(entry(m) for m in range(101)))
    page = (await gateway.audit(**BEFORE_NOW)).json()
    assert len(page["items"]) == 100 and page["next"] is not None


async def test_only_admins_read_the_trail(gateway: Gateway) -> None:
    nobody = await gateway.client.get("/v1/admin/audit")
    assert nobody.status_code == 401
    assert "www-authenticate" in nobody.headers

    customs = await gateway.client.get(
        "/v1/admin/audit", headers={"X-API-Key": gateway.customs.api_key}
    )
    assert customs.status_code == 403

    token = await gateway.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": gateway.admin.client.id,
            "client_secret": gateway.admin.client_secret,
        },
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await gateway.client.get("/v1/admin/audit", headers=bearer)).status_code == 200


async def test_every_call_through_the_gateway_lands_in_the_trail(gateway: Gateway) -> None:
    """The gateway's front records each request; the writer stores it; an admin reads it."""
    customs = {"X-API-Key": gateway.customs.api_key}
    refused = await gateway.client.get(
        "/v1/admin/audit", headers={**customs, "X-Request-ID": "trail-check-1"}
    )
    assert refused.status_code == 403
    forwarded = await gateway.client.get("/v1/species/taxa", headers=customs)
    assert forwarded.status_code >= 500  # species-ref is down in this test
    anonymous = await gateway.client.get("/v1/species/taxa")
    assert anonymous.status_code == 401
    writer = gateway_state(gateway.app).audit
    assert isinstance(writer, BatchAuditWriter)
    await writer.flush()

    mine = (await gateway.audit(client_id=gateway.customs.client.id)).json()["items"]
    assert [(e["method"], e["route"], e["upstream"], e["status"]) for e in mine] == [
        ("GET", "/v1/species/**", "species-ref", forwarded.status_code),
        ("GET", "/v1/admin/audit", None, 403),
    ]
    assert mine[1]["request_id"] == "trail-check-1"
    assert mine[1]["country"] == "KE" and mine[1]["latency_ms"] > 0
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    assert all(datetime.fromisoformat(e["at"]) > a_minute_ago for e in mine)

    unknown = (await gateway.audit(status=401)).json()["items"]
    assert [(e["client_id"], e["path"]) for e in unknown] == [(None, "/v1/species/taxa")]
