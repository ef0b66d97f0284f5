"""The client admin API (`/v1/admin/clients`, scope `admin`) on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from clients_support import RunningGateway
from gateway.clients.service import IssuedCredentials

CLIENTS = "/v1/admin/clients"


@pytest.fixture
async def as_admin(gateway: RunningGateway, admin: IssuedCredentials) -> dict[str, str]:
    return await gateway.bearer(admin)


def _new(name: str = "ke-single-window", **values: Any) -> dict[str, Any]:
    return {"name": name, "country": "KE", "roles": ["single_window"], **values}


async def test_an_admin_creates_a_client_whose_credentials_work(
    gateway: RunningGateway, as_admin: dict[str, str]
) -> None:
    response = await gateway.http.post(CLIENTS, json=_new(), headers=as_admin)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"client_id", "client_secret", "api_key", "client"}
    client = body["client"]
    assert client["client_id"] == body["client_id"]
    assert client["name"] == "ke-single-window"
    assert client["country"] == "KE"
    assert client["roles"] == ["single_window"]
    assert client["scopes"] == ["permits:endorse", "permits:verify", "species:read"]
    assert client["status"] == "active"
    assert client["rate"] is client["burst"] is None
    assert client["created_at"] == client["rotated_at"] == client["updated_at"]
    assert body["api_key"].startswith("pgk_")

    token = await gateway.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.text
    by_key = await gateway.authenticator.authenticate(None, body["api_key"])
    assert by_key.client_id == body["client_id"]


async def test_a_client_narrowed_to_some_scopes_with_its_own_rate(
    gateway: RunningGateway, as_admin: dict[str, str]
) -> None:
    spec = _new("ke-customs", roles=["customs"], scopes=["risk:assess"], rate=5, burst=10)

    response = await gateway.http.post(CLIENTS, json=spec, headers=as_admin)

    assert response.status_code == 201, response.text
    client = response.json()["client"]
    assert client["scopes"] == ["risk:assess"]
    assert (client["rate"], client["burst"]) == (5, 10)
    principal = await gateway.authenticator.authenticate(None, response.json()["api_key"])
    assert principal.scopes == {"risk:assess"}
    assert (principal.rate_policy.rate, principal.rate_policy.burst) == (5, 10)


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (_new(roles=["smuggler"]), "roles[0]", "single_window"),
        (_new(roles=[]), "roles", "at least 1"),
        (_new(country="Kenya"), "country", "pattern"),
        (_new(country="ke"), "country", "pattern"),
        (_new(scopes=["permits:verify", "admin"]), "scopes", "not granted by the roles: admin"),
        (_new(rate=5), "burst", "together"),
        (_new(rate=-1, burst=2), "rate", "greater than 0"),
        (_new(name=""), "name", "at least 1"),
        ({"country": "KE", "roles": ["customs"]}, "name", "required"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    gateway: RunningGateway,
    as_admin: dict[str, str],
    spec: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = await gateway.http.post(CLIENTS, json=spec, headers=as_admin)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert message.lower() in errors[0]["message"].lower()


async def test_a_taken_name_is_a_409(gateway: RunningGateway, as_admin: dict[str, str]) -> None:
    first = await gateway.http.post(CLIENTS, json=_new("dup"), headers=as_admin)
    assert first.status_code == 201

    second = await gateway.http.post(CLIENTS, json=_new("dup"), headers=as_admin)

    assert second.status_code == 409, second.text
    assert second.json()["code"] == "conflict"
    assert second.json()["errors"][0]["field"] == "name"


async def test_clients_are_listed_by_name_in_pages_without_secrets(
    gateway: RunningGateway, as_admin: dict[str, str]
) -> None:
    created = []
    for name in ("delta", "alpha", "echo", "charlie", "bravo"):
        response = await gateway.http.post(CLIENTS, json=_new(name), headers=as_admin)
        created.append(response.json())

    names: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await gateway.http.get(CLIENTS, params=params, headers=as_admin)
        assert response.status_code == 200, response.text
        text = response.text
        for issued in created:
            assert issued["client_secret"] not in text
            assert issued["api_key"] not in text
        assert "hash" not in text
        names += [c["name"] for c in response.json()["items"]]
        pages += 1
        cursor = response.json()["next"]
        if cursor is None:
            break

    assert names == ["alpha", "bravo", "charlie", "delta", "echo", "ops-admin"]
    assert pages == 3
    bad = await gateway.http.get(CLIENTS, params={"cursor": "%%%"}, headers=as_admin)
    assert bad.status_code == 400


async def test_one_client_and_unknown_ones(
    gateway: RunningGateway, as_admin: dict[str, str]
) -> None:
    created = (await gateway.http.post(CLIENTS, json=_new(), headers=as_admin)).json()

    one = await gateway.http.get(f"{CLIENTS}/{created['client_id']}", headers=as_admin)

    assert one.status_code == 200
    assert one.json() == created["client"]
    for method, path in [
        ("GET", "nope"),
        ("POST", "nope/rotate-secret"),
        ("POST", "nope/disable"),
        ("POST", "nope/enable"),
    ]:
        response = await gateway.http.request(method, f"{CLIENTS}/{path}", headers=as_admin)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"


async def test_rotation_moves_rotated_at_and_returns_new_credentials_once(
    gateway: RunningGateway, as_admin: dict[str, str]
) -> None:
    created = (await gateway.http.post(CLIENTS, json=_new(), headers=as_admin)).json()

    rotated = await gateway.http.post(
        f"{CLIENTS}/{created['client_id']}/rotate-secret", headers=as_admin
    )

    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    body = rotated.json()
    assert body["client_secret"] != created["client_secret"]
    assert body["api_key"] != created["api_key"]
    assert body["client"]["rotated_at"] > created["client"]["rotated_at"]
    assert body["client"]["created_at"] == created["client"]["created_at"]


ENDPOINTS = [
    ("GET", CLIENTS),
    ("POST", CLIENTS),
    ("GET", f"{CLIENTS}/some-id"),
    ("POST", f"{CLIENTS}/some-id/rotate-secret"),
    ("POST", f"{CLIENTS}/some-id/disable"),
    ("POST", f"{CLIENTS}/some-id/enable"),
]


async def test_every_admin_endpoint_needs_credentials_and_the_admin_scope(
    gateway: RunningGateway,
) -> None:
    sw = await gateway.create_client("sw", "single_window")
    not_admin = await gateway.bearer(sw)

    for method, path in ENDPOINTS:
        anonymous = await gateway.http.request(method, path, json=_new("x"))
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")

        forbidden = await gateway.http.request(method, path, json=_new("x"), headers=not_admin)
        assert forbidden.status_code == 403, (method, path)
        assert forbidden.headers["content-type"] == "application/problem+json"
        assert forbidden.json()["missing_scopes"] == ["admin"]

        by_key = await gateway.http.request(
            method, path, json=_new("x"), headers={"X-API-Key": sw.api_key}
        )
        assert by_key.status_code == 403, (method, path)


async def test_an_admin_api_key_works_too(
    gateway: RunningGateway, admin: IssuedCredentials
) -> None:
    response = await gateway.http.get(CLIENTS, headers={"X-API-Key": admin.api_key})

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["items"]] == ["ops-admin"]
