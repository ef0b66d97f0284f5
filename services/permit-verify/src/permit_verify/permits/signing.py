"""Signing permits and checking signed copies.

The signed payload is the canonical form of the permit's boxes (`canonical_boxes`): JSON with
sorted keys, no whitespace, UTF-8, dates ISO 8601 and quantities as normalised decimal strings
(`"100"`, `"0.5"`), in the spirit of RFC 8785 (no JSON numbers appear, so number formatting
never matters). It is signed as a compact JWS (EdDSA, Ed25519) with the issuing country's
key; the JWS carries the payload, so the registry keeps exactly what was signed.

`verify_permit(document, signature, jwks)` checks a copy (from a partner, a scan, a paper
permit keyed in) against a signature and a JWKS, and names every box that differs from
what was signed.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from jwt.algorithms import OKPAlgorithm

from pangolin_core.identity import key_id
from permit_verify.errors import NoSigningKey
from permit_verify.settings import DEV_PERMIT_SIGNING_KEY, PermitVerifySettings
from permit_verify.tables import plain

ALGORITHM = "EdDSA"
JWS_TYPE = "cites-permit+jws"

# The permit's boxes: what is signed and compared. Registry state (id, status, balances,
# version) is not part of the document.
PERMIT_BOXES = (
    "number",
    "type",
    "issuing_country",
    "issuing_authority",
    "security_stamp",
    "issued_on",
    "valid_until",
    "exporter",
    "importer",
    "purpose",
    "special_conditions",
)
PARTY_BOXES = ("name", "address", "country")
ITEM_BOXES = (
    "item_id",
    "species",
    "description",
    "term",
    "appendix",
    "source",
    "quantity",
    "unit",
    "origin_country",
    "origin_permit",
    "reexport_certificate",
)
_DECIMAL_BOXES = frozenset({"quantity"})


def _canonical_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(plain(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    return value


def _decimal_box(value: Any) -> Any:
    # A copy may carry 100, "100", "100.0" or 1e2: the same quantity, one canonical string.
    if isinstance(value, bool) or value is None:
        return value
    try:
        return str(plain(Decimal(str(value))))
    except ArithmeticError:  # InvalidOperation, and Overflow for 1e999999999
        return value


def canonical_boxes(document: Mapping[str, Any]) -> dict[str, Any]:
    """The boxes of a permit document (the API's JSON shape, or the same as Python values),
    in canonical values; anything else in the document is left out."""
    boxes: dict[str, Any] = {name: _canonical_value(document.get(name)) for name in PERMIT_BOXES}
    for party in ("exporter", "importer"):
        raw = document.get(party)
        boxes[party] = (
            {name: _canonical_value(raw.get(name)) for name in PARTY_BOXES}
            if isinstance(raw, Mapping)
            else _canonical_value(raw)
        )
    items = document.get("items")
    boxes["items"] = [
        {
            name: _decimal_box(item.get(name))
            if name in _DECIMAL_BOXES
            else _canonical_value(item.get(name))
            for name in ITEM_BOXES
        }
        if isinstance(item, Mapping)
        else _canonical_value(item)
        for item in (items if isinstance(items, list) else [])
    ]
    return boxes


def canonical_json(boxes: Mapping[str, Any]) -> bytes:
    return json.dumps(
        boxes, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@dataclass(frozen=True)
class SigningKey:
    country: str
    private_key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private_key.public_key())


class PermitSigner:
    """The issuing countries' signing keys (from settings; the development key signs for
    any other country outside production) and the JWKS they publish."""

    def __init__(self, settings: PermitVerifySettings) -> None:
        self._keys = {
            country: _private_key(pem.get_secret_value())
            for country, pem in settings.permit_signing_keys.items()
        }
        self._dev_key = (
            _private_key(DEV_PERMIT_SIGNING_KEY) if settings.dev_signing_key_allowed else None
        )
        self._jwks: dict[str, dict[str, Any]] = {}
        self._retired = {
            country: [_public_key(pem) for pem in pems]
            for country, pems in settings.permit_retired_public_keys.items()
        }

    def key_for(self, country: str) -> SigningKey:
        key = self._keys.get(country, self._dev_key)
        if key is None:
            raise NoSigningKey(f"permit-verify holds no signing key for {country}.")
        return SigningKey(country, key)

    def sign(self, country: str, document: Mapping[str, Any]) -> tuple[str, str]:
        """The compact JWS over the document's canonical boxes, and the key id."""
        return self.sign_payload(
            country, canonical_json(canonical_boxes(document)), typ=JWS_TYPE, ctry=country
        )

    def sign_payload(
        self, country: str, payload: bytes, *, typ: str, **headers: str
    ) -> tuple[str, str]:
        """A compact JWS over `payload` with `country`'s key, and the key id."""
        key = self.key_for(country)
        token = jwt.PyJWS().encode(
            payload,
            key.private_key,
            algorithm=ALGORITHM,
            headers={"kid": key.key_id, "typ": typ, **headers},
        )
        return token, key.key_id

    def jwks(self, country: str) -> dict[str, Any]:
        """The public keys that verify `country`'s permits: current first, then retired.
        Built once per country (the keys come from the settings): every permit of a
        verification is checked against its country's JWKS."""
        cached = self._jwks.get(country)
        if cached is None:
            cached = self._jwks[country] = self._build_jwks(country)
        return cached

    def _build_jwks(self, country: str) -> dict[str, Any]:
        keys: list[Ed25519PublicKey] = []
        current = self._keys.get(country, self._dev_key)
        if current is not None:
            keys.append(current.public_key())
        keys.extend(self._retired.get(country, []))
        return {"keys": [public_jwk(key, country) for key in keys]}


def public_jwk(key: Ed25519PublicKey, country: str) -> dict[str, Any]:
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key, as_dict=True)
    jwk.update(kid=key_id(key), use="sig", alg=ALGORITHM, country=country)
    return jwk


def _private_key(pem: str) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("a permit signing key must be an Ed25519 key")
    return key


def _public_key(pem: str) -> Ed25519PublicKey:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("a permit verification key must be an Ed25519 key")
    return key


@dataclass(frozen=True)
class FieldDifference:
    field: str  # path in the permit JSON: `items[0].quantity`, `exporter.name`
    signed: Any
    presented: Any


@dataclass(frozen=True)
class PermitCheck:
    """The outcome of checking a copy: `valid` only when the signature holds and every box
    equals what was signed."""

    signature_valid: bool
    reason: str | None = None
    key_id: str | None = None
    differences: list[FieldDifference] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.signature_valid and not self.differences


def signed_boxes(signature: str, jwks: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The boxes a signature carries, once it verified against a key of `jwks` (and the key
    id); raises `ValueError` saying why not.

    A compact JWS checked directly (RFC 7515, EdDSA only): PyJWT's decode rebuilt the key
    from its JWK and scanned the ~2 KB token character by character twice, about a fifth of
    a verification's signature check (bench/verify_cpu.py)."""
    parts = signature.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS (three segments expected)")
    header_b64, payload_b64, signature_b64 = parts
    header = json.loads(_b64url(header_b64, "header"))
    if not isinstance(header, dict):
        raise ValueError("the JWS header is not an object")
    if header.get("alg") != ALGORITHM:
        raise ValueError(f"the JWS algorithm is {header.get('alg')!r}, not {ALGORITHM}")
    if "crit" in header:  # RFC 7515 4.1.11: no extension is understood here
        raise ValueError("the JWS names critical extensions this registry does not know")
    kid = header.get("kid")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, Mapping) and k.get("kid") == kid]
    if not keys:
        raise ValueError(f"no key {kid!r} in the issuing country's JWKS")
    jwk = keys[0]
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise ValueError("the issuing country's key is not an Ed25519 JWK")
    public = _ed25519_key(jwk["x"])
    try:
        public.verify(_b64url(signature_b64, "signature"), f"{header_b64}.{payload_b64}".encode())
    except InvalidSignature:
        raise ValueError("Signature verification failed") from None
    payload = json.loads(_b64url(payload_b64, "payload"))
    if not isinstance(payload, dict):
        raise ValueError("the signed payload is not a permit")
    return payload, str(kid)


_B64URL = bytes.maketrans(b"-_", b"+/")


def _b64url(segment: str, name: str) -> bytes:
    """Strict base64url without padding: a character outside the alphabet is refused."""
    if "+" in segment or "/" in segment:  # base64's, not base64url's
        raise ValueError(f"invalid {name} encoding: not base64url")
    raw = segment.encode("ascii", errors="replace").translate(_B64URL)
    try:
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid {name} encoding: {exc}") from None


@lru_cache(maxsize=256)
def _ed25519_key(x: str) -> Ed25519PublicKey:
    """An Ed25519 JWK's public key (cached: a country's JWKS holds one or two keys)."""
    return Ed25519PublicKey.from_public_bytes(_b64url(x, "key"))


def verify_permit(
    document: Mapping[str, Any], signature: str, jwks: Mapping[str, Any]
) -> PermitCheck:
    """Check `document` against `signature` (a compact JWS from the registry) and the issuing
    country's JWKS. Pure: no I/O."""
    try:
        signed, kid = signed_boxes(signature, jwks)
    except ValueError as exc:  # json.JSONDecodeError and UnicodeError are ValueErrors
        return PermitCheck(signature_valid=False, reason=f"signature not valid: {exc}")
    differences = differing_fields(signed, canonical_boxes(document))
    return PermitCheck(signature_valid=True, key_id=kid, differences=differences)


def differing_fields(
    signed: Mapping[str, Any], presented: Mapping[str, Any]
) -> list[FieldDifference]:
    """Box by box; items are matched by their `item_id` (a copy that reorders blocks is not
    altered) and named by their position in the signed permit."""
    out: list[FieldDifference] = []
    for name in PERMIT_BOXES:
        if name in ("exporter", "importer"):
            continue
        if signed.get(name) != presented.get(name):
            out.append(FieldDifference(name, signed.get(name), presented.get(name)))
    for party in ("exporter", "importer"):
        mine, theirs = signed.get(party), presented.get(party)
        if not isinstance(mine, Mapping) or not isinstance(theirs, Mapping):
            if mine != theirs:
                out.append(FieldDifference(party, mine, theirs))
            continue
        for name in PARTY_BOXES:
            if mine.get(name) != theirs.get(name):
                out.append(FieldDifference(f"{party}.{name}", mine.get(name), theirs.get(name)))
    out.extend(_item_differences(signed.get("items"), presented.get("items")))
    return out


def _item_differences(signed: Any, presented: Any) -> list[FieldDifference]:
    mine: Sequence[Mapping[str, Any]] = signed if isinstance(signed, list) else []
    theirs = {
        item.get("item_id"): item
        for item in (presented if isinstance(presented, list) else [])
        if isinstance(item, Mapping)
    }
    out: list[FieldDifference] = []
    seen: set[Any] = set()
    for n, item in enumerate(mine):
        item_id = item.get("item_id")
        seen.add(item_id)
        other = theirs.get(item_id)
        if other is None:
            out.append(FieldDifference(f"items[{n}]", item_id, None))
            continue
        for name in ITEM_BOXES:
            if item.get(name) != other.get(name):
                out.append(FieldDifference(f"items[{n}].{name}", item.get(name), other.get(name)))
    for item_id in theirs:
        if item_id not in seen:
            out.append(FieldDifference(f"items[{item_id}]", None, item_id))
    return out
