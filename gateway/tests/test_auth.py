"""The authenticator: access tokens and API keys against the client directory, refused at once
on the replica that disabled or rotated a client and within a refresh on the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from clients_support import RunningGateway, gateway_settings, open_gateway
from gateway import auth
from gateway.clients.service import IssuedCredentials
from gateway.settings import RatePolicy
from pangolin_core.errors import Unauthenticated
from pangolin_core.testing import eventually

CLIENTS = "/v1/admin/clients"


async def _refused(gateway: RunningGateway, **credentials: str | None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as refused:
        await gateway.authenticator.authenticate(
            credentials.get("authorization"), credentials.get("api_key")
        )
    return refused.value


async def _admin_post(gateway: RunningGateway, admin: IssuedCredentials, path: str) -> Any:
    response = await gateway.http.post(f"{CLIENTS}/{path}", headers=await gateway.bearer(admin))
    assert response.status_code == 200, response.text
    return response.json()


async def test_no_credentials_is_a_401_with_a_bearer_challenge(gateway: RunningGateway) -> None:
    for headers in ({}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer"}):
        response = await gateway.http.get(CLIENTS, headers=headers)

        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="pangolin"'
        assert response.json()["code"] == "unauthenticated"


async def test_an_access_token_gives_the_client_and_the_token_scopes(
    gateway: RunningGateway,
) -> None:
    issued = await gateway.create_client("ke-customs", "customs", country="KE")

    principal = await gateway.authenticator.authenticate(
        f"Bearer {await gateway.token(issued, 'intel:read')}", None
    )

    assert principal.client_id == issued.client.id
    assert principal.name == "ke-customs"
    assert principal.country == "KE"
    assert principal.roles == {"customs"}
    assert principal.scopes == {"intel:read"}
    assert principal.method == "bearer"
    assert principal.rate_policy == gateway.settings.role_rate_limits["customs"]


async def test_an_api_key_gives_the_client_scopes_and_its_own_rate(
    gateway: RunningGateway,
) -> None:
    issued = await gateway.create_client("tz-partner", "partner", country="TZ", rate=7.5, burst=15)

    principal = await gateway.authenticator.authenticate(None, issued.api_key)

    assert principal.client_id == issued.client.id
    assert principal.method == "api_key"
    assert principal.scopes == {"intel:federate", "permits:lookup"}
    assert principal.rate_policy == RatePolicy(rate=7.5, burst=15)


async def test_several_roles_get_the_most_generous_default_rate(gateway: RunningGateway) -> None:
    issued = await gateway.create_client("ke-both", "customs", "single_window")

    principal = await gateway.authenticator.authenticate(None, issued.api_key)

    assert principal.rate_policy == gateway.settings.role_rate_limits["single_window"]
    assert principal.scopes >= {"risk:*", "permits:verify"}


async def test_a_bearer_token_wins_over_an_api_key(gateway: RunningGateway) -> None:
    one = await gateway.create_client("one", "partner")
    other = await gateway.create_client("other", "customs")

    principal = await gateway.authenticator.authenticate(
        f"Bearer {await gateway.token(one)}", other.api_key
    )

    assert principal.client_id == one.client.id


@pytest.mark.parametrize(
    "api_key",
    ["", "nonsense", "pgk_", "pgk_abc", "pgk_0123456789abcdef_wrong-secret"],
)
async def test_an_unknown_or_malformed_api_key_is_refused(
    gateway: RunningGateway, api_key: str
) -> None:
    await gateway.create_client("someone", "partner")

    refused = await _refused(gateway, api_key=api_key)

    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="pangolin"')


def _count_argon2(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    calls: list[str] = []
    real = auth.secret_matches

    def counting(secret_hash: str, secret: str) -> bool:
        calls.append(secret)
        return real(secret_hash, secret)

    monkeypatch.setattr(auth, "secret_matches", counting)
    return lambda: len(calls)


async def test_an_api_key_is_verified_once_then_served_from_the_cache(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await gateway.create_client("sw", "single_window")
    verifications = _count_argon2(monkeypatch)

    for _ in range(5):
        principal = await gateway.authenticator.authenticate(None, issued.api_key)
        assert principal.client_id == issued.client.id
    assert verifications() == 1

    wrong = issued.api_key[:-2] + ("AA" if not issued.api_key.endswith("AA") else "BB")
    for _ in range(2):  # a wrong secret is never cached as good
        await _refused(gateway, api_key=wrong)
    assert verifications() == 3


async def test_guessing_the_secret_of_a_known_key_id_stops_costing_argon2(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await gateway.create_client("sw", "single_window")
    verifications = _count_argon2(monkeypatch)
    key_id = issued.api_key.split("_")[1]
    for attempt in range(25):
        await _refused(gateway, api_key=f"pgk_{key_id}_guess{attempt}")
    assert verifications() == auth.API_KEY_CHECKS.burst
    refused = await _refused(gateway, api_key=f"pgk_{key_id}_guess-again")
    assert "Too many checks" in refused.detail
    # Another client's key is not affected, and a burst of its first requests costs one check.
    before = verifications()
    other = await gateway.create_client("other", "single_window")
    burst = await asyncio.gather(
        *(gateway.authenticator.authenticate(None, other.api_key) for _ in range(30))
    )
    assert {p.client_id for p in burst} == {other.client.id}
    assert verifications() == before + 1


async def test_rotation_refuses_the_old_secret_key_and_tokens_at_once(
    gateway: RunningGateway, admin: IssuedCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    sw = await gateway.create_client("sw-rotated", "single_window")
    old_token = await gateway.token(sw)
    await gateway.authenticator.authenticate(None, sw.api_key)  # cached now
    await gateway.authenticator.authenticate(f"Bearer {old_token}", None)

    rotated = await _admin_post(gateway, admin, f"{sw.client.id}/rotate-secret")

    assert rotated["client_id"] == sw.client.id
    assert rotated["client_secret"] != sw.client_secret
    assert rotated["api_key"] != sw.api_key
    refused = await _refused(gateway, authorization=f"Bearer {old_token}")
    assert "issued before the client's secret was rotated" in refused.detail
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    await _refused(gateway, api_key=sw.api_key)
    old_secret = await gateway.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sw.client.id, sw.client_secret),
    )
    assert old_secret.status_code == 401
    assert old_secret.json()["error"] == "invalid_client"

    new = IssuedCredentials(sw.client, rotated["client_secret"], rotated["api_key"])
    by_token = await gateway.authenticator.authenticate(f"Bearer {await gateway.token(new)}", None)
    by_key = await gateway.authenticator.authenticate(None, new.api_key)
    assert by_token.client_id == by_key.client_id == sw.client.id


async def test_disabling_refuses_tokens_and_api_keys_at_once_and_enabling_restores_them(
    gateway: RunningGateway, admin: IssuedCredentials
) -> None:
    sw = await gateway.create_client("sw-disabled", "single_window")
    token = f"Bearer {await gateway.token(sw)}"
    await gateway.authenticator.authenticate(None, sw.api_key)  # cached now

    assert (await _admin_post(gateway, admin, f"{sw.client.id}/disable"))["status"] == "disabled"

    for credentials in ({"authorization": token}, {"api_key": sw.api_key}):
        refused = await _refused(gateway, **credentials)
        assert refused.detail == "The client is disabled."
    over_http = await gateway.http.get(f"{CLIENTS}/x", headers={"X-API-Key": sw.api_key})
    assert over_http.status_code == 401

    assert (await _admin_post(gateway, admin, f"{sw.client.id}/enable"))["status"] == "active"

    assert (await gateway.authenticator.authenticate(token, None)).client_id == sw.client.id
    assert (await gateway.authenticator.authenticate(None, sw.api_key)).client_id == sw.client.id


async def test_another_replica_refuses_within_its_refresh_interval(
    database_url: str, nats_url: str
) -> None:
    """Two gateways on one database: what one changes, the other learns by refreshing."""
    settings = gateway_settings(database_url, nats_url, client_refresh_seconds=0.05)
    async with open_gateway(settings) as first, open_gateway(settings) as second:
        admin = await first.create_client("ops", "admin", country="XX")
        sw = await first.create_client("sw", "single_window")

        async def second_knows_them() -> bool:
            return second.authenticator.directory.get(sw.client.id) is not None

        await eventually(second_knows_them)
        key_principal = await second.authenticator.authenticate(None, sw.api_key)
        assert key_principal.client_id == sw.client.id
        # Tokens of one replica are good at the other only when they share signing keys.
        token = f"Bearer {await second.token(sw)}"

        await _admin_post(first, admin, f"{sw.client.id}/disable")

        async def second_refuses() -> bool:
            try:
                await second.authenticator.authenticate(None, sw.api_key)
            except Unauthenticated:
                return True
            return False

        await eventually(second_refuses)
        await _refused(second, authorization=token)

        await _admin_post(first, admin, f"{sw.client.id}/enable")
        rotated = await _admin_post(first, admin, f"{sw.client.id}/rotate-secret")

        async def second_takes_the_new_key() -> bool:
            try:
                await second.authenticator.authenticate(None, rotated["api_key"])
            except Unauthenticated:
                return False
            return True

        await eventually(second_takes_the_new_key)
        await _refused(second, api_key=sw.api_key)
        await _refused(second, authorization=token)
