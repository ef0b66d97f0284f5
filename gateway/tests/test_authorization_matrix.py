"""Who may call what, through the gateway, against the real services running as processes.

The expected matrix is written from DESIGN.md's role table, not derived from the route table:
it is the oracle the route table is checked against.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from gateway_support import Services, gateway, new_client, running_services
from pangolin_core.contracts.roles import Role
from pangolin_core.identity import Caller, IdentitySigner
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY

JSON_BODY: dict[str, Any] = {"json": {}}
# name -> (method, path, request options)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "species read": ("GET", "/v1/species/codes/purposes", {}),
    "species publish": ("POST", "/v1/species/publications", JSON_BODY),
    "species sync state": ("GET", "/v1/species/sync", {}),
    "permit verify": ("POST", "/v1/verifications", JSON_BODY),
    "permit issue": ("POST", "/v1/permits", JSON_BODY),
    "permit endorse": ("POST", "/v1/permits/p-1/endorsements", JSON_BODY),
    "permit lookup": ("GET", "/v1/permits/lookup?number=KE%2F1&issuing_country=KE", {}),
    "permit confirm": ("POST", "/v1/permits/p-1/confirmations", JSON_BODY),
    "risk assess": ("POST", "/v1/risk/assessments", JSON_BODY),
    "risk evaluation": ("GET", "/v1/risk/evaluation", {}),
    "intel read": ("GET", "/v1/intel/records", {}),
    "intel write": ("POST", "/v1/intel/records", JSON_BODY),
    "taxii discovery": ("GET", "/taxii2/", {}),
    "admin clients": ("GET", "/v1/admin/clients", {}),
}
ALLOWED: dict[Role, set[str]] = {
    Role.SINGLE_WINDOW: {"species read", "permit verify", "permit endorse"},
    Role.CUSTOMS: {
        "species read", "permit lookup", "risk assess", "risk evaluation", "intel read",
        "intel write", "taxii discovery",
    },
    Role.MANAGEMENT_AUTHORITY: {
        "species read", "species publish", "permit issue", "intel read", "taxii discovery",
    },
    Role.PARTNER: {"permit lookup", "permit confirm", "taxii discovery"},
    Role.ADMIN: {"admin clients", "species sync state"},
}  # fmt: skip


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with running_services(tmp_path_factory.mktemp("services")) as running:
        yield running


def outcome(response: httpx.Response) -> str:
    """`allowed` when the call reached its service (the answer came through the gateway's
    proxy, `Via`) or was the gateway's own answer to an allowed call; else the refusal."""
    if response.status_code == 401:
        return "401"
    if response.status_code == 403:
        return "403"
    return "allowed"


async def test_each_role_reaches_what_its_scopes_allow_and_nothing_else(
    services: Services, tmp_path: Path
) -> None:
    async with gateway(services, tmp_path) as (client, app):
        credentials = {role: await new_client(app, role) for role in Role}
        seen: dict[tuple[str, str], str] = {}
        for role, issued in credentials.items():
            token = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(issued.client.id, issued.client_secret),
            )
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for name, (method, path, options) in ENDPOINTS.items():
                # Alternate the two ways in: both must give the same answers.
                headers = bearer if len(seen) % 2 else {"X-API-Key": issued.api_key}
                response = await client.request(method, path, headers=headers, **options)
                seen[(role.value, name)] = outcome(response)
                if outcome(response) == "allowed" and name != "admin clients":
                    assert response.headers["via"] == "1.1 pangolin-gateway", (name, role)
                if response.status_code == 403:
                    assert response.headers["content-type"] == "application/problem+json"
                    assert response.json()["code"] == "forbidden"

    expected = {
        (role.value, name): "allowed" if name in ALLOWED[role] else "403"
        for role in Role
        for name in ENDPOINTS
    }
    assert seen == expected


async def test_an_allowed_read_returns_the_services_answer(
    services: Services, tmp_path: Path
) -> None:
    async with gateway(services, tmp_path) as (client, app):
        issued = await new_client(app, Role.SINGLE_WINDOW)
        response = await client.get(
            "/v1/species/codes/purposes",
            headers={"X-API-Key": issued.api_key, "X-Request-ID": "sw-0001"},
        )
    assert response.status_code == 200, response.text
    assert "T" in {code["code"] for code in response.json()["codes"]}
    assert response.headers["x-request-id"] == "sw-0001"
    assert "ratelimit" in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "pgk_unknown_secret"},
    ],
    ids=["none", "garbage-bearer", "basic", "unknown-api-key"],
)
async def test_no_or_bad_credentials_get_401_everywhere(
    services: Services, tmp_path: Path, headers: dict[str, str]
) -> None:
    async with gateway(services, tmp_path) as (client, _app):
        for name, (method, path, options) in ENDPOINTS.items():
            response = await client.request(method, path, headers=headers, **options)
            assert response.status_code == 401, (name, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer"), name
            assert response.headers["content-type"] == "application/problem+json"
            assert "via" not in response.headers  # never reached a service


async def test_an_identity_header_sent_from_outside_has_no_effect(
    services: Services, tmp_path: Path
) -> None:
    """A forged `X-Pangolin-Identity` (even one signed with the real development key) is
    stripped: the service sees only the gateway's."""
    no_scopes = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY).sign(
        Caller("forger", "XX", frozenset(), frozenset())
    )
    everything = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY).sign(
        Caller("forger", "XX", frozenset({"admin"}), frozenset({"species:read"}))
    )
    async with gateway(services, tmp_path) as (client, app):
        reader = await new_client(app, Role.SINGLE_WINDOW)
        partner = await new_client(app, Role.PARTNER)
        # Forwarded first, a forged empty identity would make the service answer 403.
        allowed = await client.get(
            "/v1/species/codes/purposes",
            headers={"X-API-Key": reader.api_key, "X-Pangolin-Identity": no_scopes},
        )
        # A forged rich identity does not lend its scopes.
        refused = await client.get(
            "/v1/species/codes/purposes",
            headers={"X-API-Key": partner.api_key, "x-pangolin-identity": everything},
        )
    assert allowed.status_code == 200, allowed.text
    assert refused.status_code == 403


async def test_a_call_that_skips_the_gateway_is_refused_by_the_service(
    services: Services,
) -> None:
    other_key = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    foreign = IdentitySigner(other_key).sign(
        Caller("intruder", "KE", frozenset(), frozenset({"species:read"}))
    )
    species = services.apps["species-ref"].url
    async with httpx.AsyncClient(base_url=species, timeout=5) as direct:
        bare = await direct.get("/v1/species/codes/purposes")
        signed_elsewhere = await direct.get(
            "/v1/species/codes/purposes", headers={"X-Pangolin-Identity": foreign}
        )
    assert bare.status_code == 401
    assert "through the gateway" in bare.json()["detail"]
    assert signed_elsewhere.status_code == 401
