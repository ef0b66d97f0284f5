"""QR tokens: `GET /v1/permits/{id}/qr` and `POST /v1/permits/verify-token` over a real
database and nats-server; the compact token's size; tampered, foreign-key and unknown tokens."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pangolin_core.identity import key_id
from pangolin_core.testing import identity_headers
from permit_support import CUSTOMS, MA_KE, NOBODY, SW_KE, PermitFactory, Registry
from permit_verify.permits.signing import FieldDifference, public_jwk
from permit_verify.tokens.compact import (
    QR_JWS_TYPE,
    check_signature,
    claim_differences,
    qr_code,
    render_qr,
)


def two_items(export_permit: PermitFactory) -> dict[str, Any]:
    body = export_permit()
    body["items"].append(
        {
            **body["items"][0],
            "item_id": "B",
            "species": "Chamaeleo calyptratus",
            "quantity": "12.5",
            "unit": "KIL",
            "term": "SKI",
        }
    )
    return body


async def issued(registry: Registry, body: dict[str, Any]) -> dict[str, Any]:
    answer = await registry.client.post("/v1/permits", json=body, headers=MA_KE)
    assert answer.status_code == 201, answer.text
    permit: dict[str, Any] = answer.json()
    return permit


async def token_of(registry: Registry, permit_id: str) -> str:
    answer = await registry.client.get(
        f"/v1/permits/{permit_id}/qr", headers={**CUSTOMS, "accept": "application/jose"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/jose"
    return answer.text


async def check(registry: Registry, token: str) -> dict[str, Any]:
    answer = await registry.client.post(
        "/v1/permits/verify-token", json={"token": token}, headers=SW_KE
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_claims(token: str, change: Any) -> str:
    """The token with its payload changed and the signature kept: an altered copy."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    body = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    return f"{header}.{_b64(body)}.{signature}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    result: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return result


async def test_the_qr_code_carries_a_compact_token_small_enough_to_scan(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issued(registry, two_items(export_permit))
    token = await token_of(registry, permit["id"])
    claims = claims_of(token)
    assert claims == {
        "v": 1,
        "c": "KE",
        "n": "KE/2026/E/000123",
        "t": "export",
        "f": permit["issued_on"],
        "u": permit["valid_until"],
        "s": "KE123456",
        "i": [
            ["A", "Python regius", "100", None, "LIV"],
            ["B", "Chamaeleo calyptratus", "12.5", "KIL", "SKI"],
        ],
        "d": claims["d"],
    }
    # Measured: the compact token of this two-item permit is ~460 characters, a version 17
    # code at level M; the permit's full JWS would need version 30+ at M.
    assert len(token) < 520
    assert qr_code(token).version <= 18
    assert segno.make(permit["signature"], error="m").version >= 30

    png = await registry.client.get(f"/v1/permits/{permit['id']}/qr", headers=CUSTOMS)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.content == render_qr(token, "png")  # the same token, drawn
    svg = await registry.client.get(
        f"/v1/permits/{permit['id']}/qr", headers={**CUSTOMS, "accept": "image/svg+xml"}
    )
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    refused = await registry.client.get(
        f"/v1/permits/{permit['id']}/qr", headers={**CUSTOMS, "accept": "text/html"}
    )
    assert refused.status_code == 406
    assert (
        await registry.client.get(f"/v1/permits/{permit['id']}/qr", headers=NOBODY)
    ).status_code == 403


async def test_a_genuine_token_is_valid_and_tells_the_status_now(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issued(registry, two_items(export_permit))
    token = await token_of(registry, permit["id"])
    result = await check(registry, token)
    assert (result["verdict"], result["valid"], result["signature_valid"]) == ("valid", True, True)
    assert (result["permit_id"], result["status"], result["expired"]) == (
        permit["id"],
        "valid",
        False,
    )
    assert result["differences"] == [] and result["key_id"] == permit["signing_key_id"]

    cancelled = await registry.client.post(
        f"/v1/permits/{permit['id']}/status",
        json={"status": "cancelled", "reason": "fraud"},
        headers=MA_KE,
    )
    assert cancelled.status_code == 200
    result = await check(registry, token)
    assert (result["verdict"], result["valid"], result["status"]) == ("valid", True, "cancelled")

    for scope in ("permits:read", "permits:lookup"):
        answer = await registry.client.post(
            "/v1/permits/verify-token",
            json={"token": token},
            headers=identity_headers(scope, client_id="c", country="VN"),
        )
        assert answer.status_code == 200
    forbidden = await registry.client.post(
        "/v1/permits/verify-token", json={"token": token}, headers=NOBODY
    )
    assert forbidden.status_code == 403


async def test_a_tampered_token_fails_and_names_the_field(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issued(registry, two_items(export_permit))
    token = await token_of(registry, permit["id"])

    def more(claims: dict[str, Any]) -> None:
        claims["i"][0][2] = "1000"

    result = await check(registry, with_claims(token, more))
    assert (result["verdict"], result["valid"], result["signature_valid"]) == (
        "altered",
        False,
        False,
    )
    assert result["differences"] == [
        {"field": "items[0].quantity", "registry": "100", "token": "1000"}
    ]
    assert "items[0].quantity" in result["reason"]
    assert result["status"] == "valid"  # the registry's permit is fine: the copy is not

    def longer(claims: dict[str, Any]) -> None:
        claims["u"] = "2099-12-31"
        claims["i"][1][1] = "Chamaeleo jacksonii"

    result = await check(registry, with_claims(token, longer))
    assert [d["field"] for d in result["differences"]] == ["valid_until", "items[1].species"]

    history = await registry.client.get(f"/v1/permits/{permit['id']}/history", headers=MA_KE)
    checks = [e for e in history.json()["entries"] if e["action"] == "qr_checked"]
    assert [
        (e["client_id"], e["details"]["verdict"], e["details"]["differences"]) for e in checks
    ] == [
        ("sw-ke", "altered", ["items[0].quantity"]),
        ("sw-ke", "altered", ["valid_until", "items[1].species"]),
    ]


async def test_a_token_with_odd_items_is_altered_not_a_crash(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issued(registry, two_items(export_permit))
    token = await token_of(registry, permit["id"])

    def odd(claims: dict[str, Any]) -> None:
        claims["i"] = [[["A"], {"x": 1}, "1e999999999", 7], "B", None]

    result = await check(registry, with_claims(token, odd))
    assert (result["verdict"], result["valid"]) == ("altered", False)
    assert [d["field"] for d in result["differences"]] == [
        "items[0]",
        "items[1]",
        'items[["A"]]',
        "items[null]",
        "items[null]",
    ]


async def test_a_token_signed_by_another_key_fails(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issued(registry, two_items(export_permit))
    claims = claims_of(await token_of(registry, permit["id"]))
    forger = Ed25519PrivateKey.generate()
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()

    own_kid = jwt.PyJWS().encode(
        payload,
        forger,
        algorithm="EdDSA",
        headers={"kid": key_id(forger.public_key()), "typ": QR_JWS_TYPE},
    )
    result = await check(registry, own_kid)
    assert (result["verdict"], result["valid"], result["signature_valid"]) == (
        "unknown_key",
        False,
        False,
    )
    assert result["differences"] == []  # the boxes are a faithful copy: only the key is wrong

    stolen_kid = jwt.PyJWS().encode(
        payload,
        forger,
        algorithm="EdDSA",
        headers={"kid": permit["signing_key_id"], "typ": QR_JWS_TYPE},
    )
    result = await check(registry, stolen_kid)
    assert (result["verdict"], result["valid"], result["signature_valid"]) == (
        "altered",
        False,
        False,
    )

    # A permit the registry never issued, signed with a key of its own: unknown key, no permit.
    invented = dict(claims, n="KE/2026/E/999999")
    ghost = jwt.PyJWS().encode(
        json.dumps(invented).encode(), forger, algorithm="EdDSA",
        headers={"kid": key_id(forger.public_key()), "typ": QR_JWS_TYPE},
    )  # fmt: skip
    result = await check(registry, ghost)
    assert (result["verdict"], result["permit_id"]) == ("unknown_key", None)


async def test_malformed_tokens_are_answered_not_crashed(registry: Registry) -> None:
    header = _b64(b'{"alg":"EdDSA"}')
    nul = _b64(json.dumps({"c": "KE", "n": "KE/1\u0000"}).encode())
    country = _b64(json.dumps({"c": "Kenya", "n": "KE/1"}).encode())
    for token in (
        "not-a-token",
        "a.b.c",
        f"{_b64(b'[]')}.{_b64(b'{}')}.x",
        f"{header}.{nul}.x",
        f"{header}.{country}.x",
    ):
        result = await check(registry, token)
        assert (result["verdict"], result["valid"]) == ("malformed", False)
    too_long = await registry.client.post(
        "/v1/permits/verify-token", json={"token": "a" * 5000}, headers=SW_KE
    )
    assert too_long.status_code == 422


def test_check_signature_and_claim_differences_are_pure() -> None:
    key = Ed25519PrivateKey.generate()
    jwks = {"keys": [public_jwk(key.public_key(), "KE")]}
    claims = {"c": "KE", "n": "1", "i": [["A", "Python regius", "5", None, "LIV"]]}
    token = jwt.PyJWS().encode(
        json.dumps(claims).encode(), key, algorithm="EdDSA",
        headers={"kid": key_id(key.public_key()), "typ": QR_JWS_TYPE},
    )  # fmt: skip
    assert check_signature(token, jwks).valid
    assert check_signature(token, {"keys": []}).reason == "unknown_key"
    wrong_type = jwt.PyJWS().encode(
        b"{}", key, algorithm="EdDSA", headers={"kid": key_id(key.public_key()), "typ": "JWT"}
    )
    assert check_signature(wrong_type, jwks).reason == "signature_invalid"
    # 5, "5.0" and "5" are one quantity; a missing and an extra block are named.
    assert (
        claim_differences(claims, {**claims, "i": [["A", "Python regius", 5.0, None, "LIV"]]}) == []
    )
    assert claim_differences(
        claims, {**claims, "i": [["B", "Python regius", "5", None, "LIV"]]}
    ) == [
        FieldDifference("items[0]", "A", None),
        FieldDifference("items[B]", None, "B"),
    ]
