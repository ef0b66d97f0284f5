"""Signing permits: the canonical form, the JWS round trip, and a tampered copy that names
the box that differs."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from permit_verify.permits.signing import (
    PermitSigner,
    canonical_boxes,
    canonical_json,
    verify_permit,
)
from permit_verify.settings import DEV_PERMIT_SIGNING_KEY, PermitVerifySettings

DOCUMENT: dict[str, Any] = {
    "number": "KE/2026/E/000123",
    "type": "export",
    "issuing_country": "KE",
    "issuing_authority": None,
    "security_stamp": "KE123456",
    "issued_on": "2026-11-01",
    "valid_until": "2027-04-30",
    "exporter": {"name": "Savannah Reptiles Ltd", "address": "Nairobi", "country": "KE"},
    "importer": {"name": "Hanoi Pet Trading Co", "address": "Hanoi", "country": "VN"},
    "purpose": "T",
    "special_conditions": None,
    "items": [
        {
            "item_id": "A",
            "species": "Python regius",
            "description": "live animals",
            "term": "LIV",
            "appendix": "II",
            "source": "C",
            "quantity": "100",
            "unit": None,
            "origin_country": "KE",
            "origin_permit": None,
            "reexport_certificate": None,
        },
        {
            "item_id": "B",
            "species": "Kinixys belliana",
            "description": "live animals",
            "term": "LIV",
            "appendix": "II",
            "source": "W",
            "quantity": "12.5",
            "unit": "KIL",
            "origin_country": "KE",
            "origin_permit": None,
            "reexport_certificate": None,
        },
    ],
}


def pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.fixture
def signer() -> PermitSigner:
    return PermitSigner(
        PermitVerifySettings(permit_signing_keys={"KE": pem(Ed25519PrivateKey.generate())})
    )


def test_the_canonical_form_sorts_keys_drops_whitespace_and_normalises_quantities() -> None:
    variant = copy.deepcopy(DOCUMENT)
    variant["items"][0]["quantity"] = 100.0
    variant["items"][1]["quantity"] = "12.500"
    variant["status"] = "partially_used"  # registry state: not a box
    variant["items"][0]["balance"] = "40"
    raw = canonical_json(canonical_boxes(variant))
    assert raw == canonical_json(canonical_boxes(DOCUMENT))
    text = raw.decode()
    assert " " not in text.replace("Savannah Reptiles Ltd", "").replace(
        "Hanoi Pet Trading Co", ""
    ).replace("Python regius", "").replace("Kinixys belliana", "").replace("live animals", "")
    assert '"quantity":"100"' in text and '"quantity":"12.5"' in text
    assert text.index('"exporter"') < text.index('"importer"') < text.index('"items"')
    assert "status" not in text and "balance" not in text


def test_a_signed_permit_verifies_with_the_country_jwks(signer: PermitSigner) -> None:
    signature, kid = signer.sign("KE", DOCUMENT)
    jwks = signer.jwks("KE")
    assert [k["kid"] for k in jwks["keys"]] == [kid]
    assert jwks["keys"][0]["kty"] == "OKP" and jwks["keys"][0]["crv"] == "Ed25519"
    assert "d" not in jwks["keys"][0]  # never the private part
    check = verify_permit(DOCUMENT, signature, jwks)
    assert check.valid and check.signature_valid and check.differences == []
    assert check.key_id == kid


def test_an_altered_quantity_is_detected_and_named(signer: PermitSigner) -> None:
    signature, _ = signer.sign("KE", DOCUMENT)
    forged = copy.deepcopy(DOCUMENT)
    forged["items"][0]["quantity"] = "1000"
    check = verify_permit(forged, signature, signer.jwks("KE"))
    assert check.signature_valid and not check.valid
    assert [(d.field, d.signed, d.presented) for d in check.differences] == [
        ("items[0].quantity", "100", "1000")
    ]


def test_every_altered_box_is_named_and_reordered_items_are_not_an_alteration(
    signer: PermitSigner,
) -> None:
    signature, _ = signer.sign("KE", DOCUMENT)
    forged = copy.deepcopy(DOCUMENT)
    forged["items"].reverse()
    assert verify_permit(forged, signature, signer.jwks("KE")).valid
    forged["valid_until"] = "2027-10-30"
    forged["importer"]["name"] = "Someone Else Ltd"
    forged["items"][0]["species"] = "Kinixys homeana"  # item B, now first
    forged["items"].append({**DOCUMENT["items"][0], "item_id": "C"})
    check = verify_permit(forged, signature, signer.jwks("KE"))
    assert [d.field for d in check.differences] == [
        "valid_until",
        "importer.name",
        "items[1].species",
        "items[C]",
    ]


def test_a_copy_signed_with_another_key_or_a_forged_payload_fails(signer: PermitSigner) -> None:
    signature, _ = signer.sign("KE", DOCUMENT)
    other = PermitSigner(
        PermitVerifySettings(permit_signing_keys={"KE": pem(Ed25519PrivateKey.generate())})
    )
    check = verify_permit(DOCUMENT, signature, other.jwks("KE"))
    assert not check.signature_valid and "no key" in str(check.reason)

    # Swap the payload inside the JWS for an altered one: the signature no longer holds.
    header, _, sig = signature.split(".")
    forged = copy.deepcopy(DOCUMENT)
    forged["items"][0]["quantity"] = "1000"
    body = base64.urlsafe_b64encode(canonical_json(canonical_boxes(forged))).rstrip(b"=").decode()
    check = verify_permit(forged, f"{header}.{body}.{sig}", signer.jwks("KE"))
    assert not check.signature_valid and "signature" in str(check.reason).lower()
    assert verify_permit(DOCUMENT, "not-a-jws", signer.jwks("KE")).signature_valid is False


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("header_changes", "reason"),
    [
        ({"alg": "none"}, "algorithm"),
        ({"alg": "HS256"}, "algorithm"),
        ({"crit": ["exp"]}, "critical"),
        ({"kid": "someone-else"}, "no key"),
    ],
)
def test_a_jws_header_outside_eddsa_with_a_known_key_is_refused(
    signer: PermitSigner, header_changes: dict[str, Any], reason: str
) -> None:
    signature, _ = signer.sign("KE", DOCUMENT)
    header, body, sig = signature.split(".")
    changed = _b64(json.loads(base64.urlsafe_b64decode(header + "==")) | header_changes)
    check = verify_permit(DOCUMENT, f"{changed}.{body}.{sig}", signer.jwks("KE"))
    assert not check.signature_valid and reason in str(check.reason)


def test_a_jws_with_characters_outside_base64url_or_a_key_not_ed25519_is_refused(
    signer: PermitSigner,
) -> None:
    signature, _ = signer.sign("KE", DOCUMENT)
    header, body, sig = signature.split(".")
    for broken, reason in (
        (f"{header}.{body}.{sig[:-2]}+/", "encoding"),
        # The signature covers the segments as sent: it fails before the payload is read.
        (f"{header}.{body}!.{sig}", "verification failed"),
        (f"{header}!.{body}.{sig}", "encoding"),
        (f"{header}.{body}", "three segments"),
    ):
        check = verify_permit(DOCUMENT, broken, signer.jwks("KE"))
        assert not check.signature_valid and reason in str(check.reason), broken
    jwks = signer.jwks("KE")
    not_ed25519 = {"keys": [jwks["keys"][0] | {"crv": "X25519"}]}
    check = verify_permit(DOCUMENT, signature, not_ed25519)
    assert not check.signature_valid and "Ed25519" in str(check.reason)
    # The cached JWKS is not altered by a caller's copy.
    assert verify_permit(DOCUMENT, signature, signer.jwks("KE")).valid


def test_retired_keys_stay_in_the_jwks_and_the_dev_key_signs_elsewhere() -> None:
    old = Ed25519PrivateKey.generate()
    old_public = old.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    settings = PermitVerifySettings(
        permit_signing_keys={"KE": pem(Ed25519PrivateKey.generate())},
        permit_retired_public_keys={"KE": [old_public.decode()]},
    )
    before = PermitSigner(PermitVerifySettings(permit_signing_keys={"KE": pem(old)}))
    signature, _ = before.sign("KE", DOCUMENT)
    after = PermitSigner(settings)
    assert len(after.jwks("KE")["keys"]) == 2
    assert verify_permit(DOCUMENT, signature, after.jwks("KE")).valid
    # Outside production, a country without a key of its own is signed with the dev key.
    vn_signature, vn_kid = after.sign("VN", DOCUMENT)
    assert verify_permit(DOCUMENT, vn_signature, after.jwks("VN")).valid
    dev = PermitSigner(PermitVerifySettings(permit_signing_keys={"VN": DEV_PERMIT_SIGNING_KEY}))
    assert dev.jwks("VN")["keys"][0]["kid"] == vn_kid
    assert json.loads(base64.urlsafe_b64decode(vn_signature.split(".")[0] + "==")) == {
        "alg": "EdDSA",
        "kid": vn_kid,
        "typ": "cites-permit+jws",
        "ctry": "VN",
    }


def test_production_refuses_the_dev_key_and_signs_only_with_configured_keys() -> None:
    with pytest.raises(ValueError, match="development key for KE"):
        PermitVerifySettings(env="production", permit_signing_keys={"KE": DEV_PERMIT_SIGNING_KEY})
    with pytest.raises(ValueError, match="PERMIT_SIGNING_KEYS is empty"):
        PermitVerifySettings(env="production")
    with pytest.raises(ValueError, match="not a PEM key"):
        PermitVerifySettings(permit_signing_keys={"KE": "nonsense"})
