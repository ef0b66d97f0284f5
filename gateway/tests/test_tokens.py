"""`POST /oauth/token` (RFC 6749 client credentials), the JWKS and signing-key rotation,
against the running gateway on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from pydantic import SecretStr

from clients_support import RunningGateway, gateway_settings, open_gateway
from pangolin_core.identity import key_id

TOKEN = "/oauth/token"
GRANT = {"grant_type": "client_credentials"}


def _private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert set(body) == {"error", "error_description"}


async def test_a_client_gets_a_token_with_http_basic(gateway: RunningGateway) -> None:
    sw = await gateway.create_client("ke-single-window", "single_window")

    response = await gateway.http.post(TOKEN, data=GRANT, auth=(sw.client.id, sw.client_secret))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == gateway.settings.token_ttl_seconds
    assert body["scope"] == "permits:endorse permits:verify species:read"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] == gateway.authenticator.tokens.keys.signing_kid
    claims = _claims(body["access_token"])
    assert claims["iss"] == gateway.settings.token_issuer
    assert claims["aud"] == "pangolin-gateway"
    assert claims["sub"] == sw.client.id
    assert claims["ctry"] == "KE"
    assert claims["roles"] == ["single_window"]
    assert claims["scope"] == body["scope"]
    assert claims["exp"] - claims["iat"] == pytest.approx(body["expires_in"], abs=1)
    uuid.UUID(claims["jti"])


async def test_a_client_gets_a_token_with_the_form_and_a_scope_subset(
    gateway: RunningGateway,
) -> None:
    customs = await gateway.create_client("ke-customs", "customs")
    form = {
        **GRANT,
        "client_id": customs.client.id,
        "client_secret": customs.client_secret,
        "scope": "risk:assess intel:read",  # risk:assess is granted by risk:*
    }

    response = await gateway.http.post(TOKEN, data=form)

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "intel:read risk:assess"
    principal = await gateway.authenticator.authenticate(
        f"Bearer {response.json()['access_token']}", None
    )
    assert principal.scopes == {"intel:read", "risk:assess"}
    assert principal.has_scope("risk:assess")
    assert not principal.has_scope("risk:profiles")


async def test_basic_credentials_are_form_urlencoded(gateway: RunningGateway) -> None:
    """RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding."""
    sw = await gateway.create_client("sw-basic", "single_window")
    raw = f"{sw.client.id}:{sw.client_secret.replace('-', '%2D')}"
    header = "Basic " + base64.b64encode(raw.encode()).decode()

    response = await gateway.http.post(TOKEN, data=GRANT, headers={"Authorization": header})

    assert response.status_code == 200, response.text


async def test_a_scope_the_client_does_not_hold_is_invalid_scope(gateway: RunningGateway) -> None:
    sw = await gateway.create_client("sw-scope", "single_window")

    response = await gateway.http.post(
        TOKEN,
        data={**GRANT, "scope": "permits:verify admin"},
        auth=(sw.client.id, sw.client_secret),
    )

    _assert_oauth_error(response, 400, "invalid_scope")
    assert "admin" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
async def test_a_malformed_grant_is_a_400_in_rfc_6749_form(
    gateway: RunningGateway, form: dict[str, str], error: str
) -> None:
    sw = await gateway.create_client("sw-grant", "single_window")

    response = await gateway.http.post(TOKEN, data=form, auth=(sw.client.id, sw.client_secret))

    _assert_oauth_error(response, 400, error)


async def test_two_client_authentication_methods_are_an_invalid_request(
    gateway: RunningGateway,
) -> None:
    sw = await gateway.create_client("sw-twice", "single_window")

    response = await gateway.http.post(
        TOKEN,
        data={**GRANT, "client_secret": sw.client_secret},
        auth=(sw.client.id, sw.client_secret),
    )

    _assert_oauth_error(response, 400, "invalid_request")


async def _invalid_client(gateway: RunningGateway, client_id: str, secret: str) -> None:
    for response in (
        await gateway.http.post(TOKEN, data=GRANT, auth=(client_id, secret)),
        await gateway.http.post(
            TOKEN, data={**GRANT, "client_id": client_id, "client_secret": secret}
        ),
    ):
        _assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"] == 'Basic realm="pangolin"'


async def test_wrong_secret_unknown_client_and_no_credentials_are_invalid_client(
    gateway: RunningGateway,
) -> None:
    sw = await gateway.create_client("sw-wrong", "single_window")

    await _invalid_client(gateway, sw.client.id, sw.client_secret + "x")
    await _invalid_client(gateway, str(uuid.uuid4()), sw.client_secret)
    await _invalid_client(gateway, "not-a-uuid", "whatever")
    response = await gateway.http.post(TOKEN, data=GRANT)
    _assert_oauth_error(response, 401, "invalid_client")
    response = await gateway.http.post(TOKEN, data=GRANT, headers={"Authorization": "Basic %%%"})
    _assert_oauth_error(response, 401, "invalid_client")


async def test_a_disabled_client_gets_no_token(gateway: RunningGateway, admin: Any) -> None:
    sw = await gateway.create_client("sw-disabled", "single_window")
    headers = await gateway.bearer(admin)
    disabled = await gateway.http.post(f"/v1/admin/clients/{sw.client.id}/disable", headers=headers)
    assert disabled.status_code == 200, disabled.text

    await _invalid_client(gateway, sw.client.id, sw.client_secret)


async def test_the_jwks_publishes_the_signing_key_as_an_okp_jwk(gateway: RunningGateway) -> None:
    sw = await gateway.create_client("sw-jwks", "single_window")
    token = await gateway.token(sw)

    response = await gateway.http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    (jwk,) = response.json()["keys"]
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig"
    assert jwk["kid"] == jwt.get_unverified_header(token)["kid"]
    assert "d" not in jwk  # never the private part
    # A partner can verify our tokens with nothing but the JWKS.
    public_key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public_key, algorithms=["EdDSA"], audience="pangolin-gateway")
    assert claims["sub"] == sw.client.id


async def test_rotating_the_signing_key_keeps_earlier_tokens_valid(
    database_url: str, nats_url: str
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = gateway_settings(
        database_url, nats_url, token_signing_keys=[SecretStr(_private_pem(old))]
    )
    async with open_gateway(before) as gateway:
        admin = await gateway.create_client("ops", "admin", country="XX")
        old_token = await gateway.token(admin)
        assert jwt.get_unverified_header(old_token)["kid"] == key_id(old.public_key())

    after = gateway_settings(
        database_url,
        nats_url,
        token_signing_keys=[SecretStr(_private_pem(new))],
        token_previous_public_keys=[_public_pem(old)],
    )
    async with open_gateway(after) as gateway:
        listed = await gateway.http.get(
            "/v1/admin/clients", headers={"Authorization": f"Bearer {old_token}"}
        )
        assert listed.status_code == 200, listed.text
        new_token = await gateway.token(admin)
        assert jwt.get_unverified_header(new_token)["kid"] == key_id(new.public_key())
        kids = {k["kid"] for k in (await gateway.http.get("/.well-known/jwks.json")).json()["keys"]}
        assert kids == {key_id(old.public_key()), key_id(new.public_key())}

    retired = gateway_settings(
        database_url, nats_url, token_signing_keys=[SecretStr(_private_pem(new))]
    )
    async with open_gateway(retired) as gateway:
        refused = await gateway.http.get(
            "/v1/admin/clients", headers={"Authorization": f"Bearer {old_token}"}
        )
        assert refused.status_code == 401
        assert "does not trust" in refused.json()["detail"]


async def test_a_signing_key_of_the_wrong_type_stops_the_start(
    database_url: str, nats_url: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    ec = generate_private_key(SECP256R1())
    pem = ec.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    settings = gateway_settings(database_url, nats_url, token_signing_keys=[SecretStr(pem)])

    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        async with open_gateway(settings):
            pass


def _forged(key: Ed25519PrivateKey, kid: str, **claims: Any) -> str:
    now = time.time()
    payload = {
        "iss": "pangolin",
        "aud": "pangolin-gateway",
        "sub": "someone",
        "iat": now,
        "exp": int(now) + 600,
        "jti": str(uuid.uuid4()),
        "scope": "admin",
        **claims,
    }
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid})


async def test_expired_untrusted_and_tampered_tokens_are_refused(gateway: RunningGateway) -> None:
    admin = await gateway.create_client("ops-forged", "admin", country="XX")
    keys = gateway.authenticator.tokens.keys
    stranger = Ed25519PrivateKey.generate()
    now = time.time()
    cases = {
        "expired": _forged(
            keys.signing_key,
            keys.signing_kid,
            sub=admin.client.id,
            iat=now - 2000,
            exp=int(now) - 1000,
        ),
        "does not trust": _forged(stranger, key_id(stranger.public_key()), sub=admin.client.id),
        "Signature verification failed": _forged(stranger, keys.signing_kid, sub=admin.client.id),
        "audience": _forged(keys.signing_key, keys.signing_kid, sub=admin.client.id, aud="x"),
        "issuer": _forged(keys.signing_key, keys.signing_kid, sub=admin.client.id, iss="x"),
        "malformed": "not.a.jwt",
    }
    for reason, token in cases.items():
        response = await gateway.http.get(
            "/v1/admin/clients", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, reason
        assert response.headers["content-type"] == "application/problem+json"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="pangolin", error="invalid_token"'), challenge
        assert reason.lower() in response.json()["detail"].lower(), response.json()

    good = _forged(keys.signing_key, keys.signing_kid, sub=admin.client.id)
    response = await gateway.http.get(
        "/v1/admin/clients", headers={"Authorization": f"Bearer {good}"}
    )
    assert response.status_code == 200, response.text


async def test_a_json_body_is_not_a_token_request(gateway: RunningGateway) -> None:
    sw = await gateway.create_client("sw-json", "single_window")

    response = await gateway.http.post(
        TOKEN, json={**GRANT, "client_id": sw.client.id, "client_secret": sw.client_secret}
    )

    _assert_oauth_error(response, 400, "invalid_request")


async def test_a_token_missing_a_claim_gets_a_well_formed_challenge(
    gateway: RunningGateway,
) -> None:
    keys = gateway.authenticator.tokens.keys
    token = jwt.encode(
        {"iss": "pangolin", "aud": "pangolin-gateway", "sub": "x", "iat": time.time()},
        keys.signing_key,
        algorithm="EdDSA",
        headers={"kid": keys.signing_kid},
    )

    response = await gateway.http.get(
        "/v1/admin/clients", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert '"exp"' in response.json()["detail"]
    challenge = response.headers["www-authenticate"]
    assert challenge == (
        'Bearer realm="pangolin", error="invalid_token", '
        "error_description=\"The access token is not valid: Token is missing the 'exp' claim\""
    )
