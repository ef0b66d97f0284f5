"""The compact signed token of a permit that its QR code carries, checked offline by an
officer's phone with the issuing country's JWKS, and online by `POST /v1/permits/verify-token`.

The full permit JWS (every box) of a two-item permit makes a QR code of version 20 or more,
too dense to scan off a printed form reliably, so the token signs a compact form instead:
a compact JWS (EdDSA, `typ` `cites-permit-qr`, `kid`) whose payload is canonical JSON
(sorted keys, no whitespace) of

    {"v": 1, "c": issuing country, "n": number, "t": type, "f": issued on, "u": valid until,
     "s": security stamp (left out when none), "i": [[item id, species, quantity, unit, term]],
     "d": digest}

with quantities as normalised decimal strings and `d` the first 16 bytes (base64url) of the
SHA-256 of the permit's canonical boxes (what the permit's own JWS signs): the token commits
to every box, and names the ones an officer compares with the paper on the spot.

Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jwt
import segno

from permit_verify.permits.schemas import PermitOut
from permit_verify.permits.signing import (
    ALGORITHM,
    FieldDifference,
    canonical_boxes,
    canonical_json,
)
from permit_verify.tables import plain

QR_JWS_TYPE = "cites-permit-qr"
TOKEN_VERSION = 1
QR_ERROR_LEVEL = "m"  # 15% of the code may be smudged or torn and it still reads
MAX_TOKEN_LENGTH = 4096

# Claim -> the permit's JSON field it holds (and the name a difference gets).
CLAIM_FIELDS = {
    "c": "issuing_country",
    "n": "number",
    "t": "type",
    "f": "issued_on",
    "u": "valid_until",
    "s": "security_stamp",
    "d": "digest",
}
ITEM_FIELDS = ("item_id", "species", "quantity", "unit", "term")


def boxes_digest(boxes: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(canonical_json(boxes)).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def compact_claims(permit: PermitOut) -> dict[str, Any]:
    """The token's claims for a permit as the registry holds it."""
    boxes = canonical_boxes(permit.model_dump())
    claims: dict[str, Any] = {
        "v": TOKEN_VERSION,
        "c": permit.issuing_country,
        "n": permit.number,
        "t": permit.type.value,
        "f": permit.issued_on.isoformat(),
        "u": permit.valid_until.isoformat(),
        "i": [[i.item_id, i.species, str(plain(i.quantity)), i.unit, i.term] for i in permit.items],
        "d": boxes_digest(boxes),
    }
    if permit.security_stamp is not None:
        claims["s"] = permit.security_stamp
    return claims


def token_payload(claims: Mapping[str, Any]) -> bytes:
    return canonical_json(claims)


_COUNTRY = re.compile(r"[A-Z]{2}")
_NUMBER = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


class MalformedToken(ValueError):
    """Not a compact JWS with a JSON object payload."""


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def read_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a token, not verified (to name what differs in a forgery)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("a token is a compact JWS: three base64url parts")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedToken(f"the token does not decode: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise MalformedToken("the token's header and payload must be JSON objects")
    country, number = claims.get("c"), claims.get("n")
    if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
        raise MalformedToken("the token names no issuing country (c: two capitals)")
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        raise MalformedToken("the token names no permit number (n: 1-64 printable characters)")
    return header, claims


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    key_id: str | None
    reason: str | None = None  # `unknown_key`, `signature_invalid`
    detail: str | None = None


def check_signature(token: str, jwks: Mapping[str, Any]) -> SignatureCheck:
    """The token against the issuing country's JWKS (what the phone does offline)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        return SignatureCheck(False, None, "signature_invalid", str(exc))
    kid = header.get("kid")
    kid = kid if isinstance(kid, str) else None
    keys = [k for k in jwks.get("keys", []) if isinstance(k, Mapping) and k.get("kid") == kid]
    if not keys:
        return SignatureCheck(
            False, kid, "unknown_key", f"no key {kid!r} in the issuing country's JWKS"
        )
    if header.get("typ") != QR_JWS_TYPE:
        return SignatureCheck(False, kid, "signature_invalid", f"typ is not {QR_JWS_TYPE}")
    try:
        public = jwt.PyJWK.from_dict(dict(keys[0]), algorithm=ALGORITHM)
        jwt.PyJWS().decode_complete(token, key=public.key, algorithms=[ALGORITHM])
    except (jwt.PyJWTError, ValueError) as exc:
        return SignatureCheck(False, kid, "signature_invalid", str(exc))
    return SignatureCheck(True, kid)


def _quantity(value: Any) -> Any:
    # "5", 5 and "5.0" are one quantity, as in the permit's own signature check.
    try:
        return str(plain(Decimal(str(value))))
    except (ArithmeticError, ValueError):  # InvalidOperation, Overflow (1e999999999)
        return value


def _items(raw: Any) -> list[dict[str, Any]]:
    out = []
    for entry in raw if isinstance(raw, list) else []:
        values = list(entry) if isinstance(entry, list) else []
        values += [None] * (len(ITEM_FIELDS) - len(values))
        item = dict(zip(ITEM_FIELDS, values, strict=False))
        if not isinstance(item["item_id"], str):  # a forged token may put anything there
            item["item_id"] = json.dumps(item["item_id"])
        item["quantity"] = _quantity(item["quantity"])
        out.append(item)
    return out


def claim_differences(
    registry: Mapping[str, Any], token: Mapping[str, Any]
) -> list[FieldDifference]:
    """What the token says differently from the registry's claims for the same permit,
    named as the permit's JSON fields (`items[0].quantity`, `valid_until`, `digest`).
    `signed` holds the registry's value, `presented` the token's."""
    out = [
        FieldDifference(name, registry.get(claim), token.get(claim))
        for claim, name in CLAIM_FIELDS.items()
        if registry.get(claim) != token.get(claim)
    ]
    mine, theirs = _items(registry.get("i")), _items(token.get("i"))
    by_id = {item["item_id"]: item for item in theirs}
    seen = set()
    for n, item in enumerate(mine):
        seen.add(item["item_id"])
        other = by_id.get(item["item_id"])
        if other is None:
            out.append(FieldDifference(f"items[{n}]", item["item_id"], None))
            continue
        out.extend(
            FieldDifference(f"items[{n}].{name}", item[name], other[name])
            for name in ITEM_FIELDS[1:]
            if item[name] != other[name]
        )
    out.extend(
        FieldDifference(f"items[{item['item_id']}]", None, item["item_id"])
        for item in theirs
        if item["item_id"] not in seen
    )
    return out


def qr_code(token: str) -> segno.QRCode:
    return segno.make(token, error=QR_ERROR_LEVEL, micro=False, boost_error=False)


def render_qr(token: str, kind: str, *, scale: int = 4) -> bytes:
    """The QR code as `png` or `svg` (quiet zone of four modules, as ISO/IEC 18004 asks)."""
    out = io.BytesIO()
    qr_code(token).save(out, kind=kind, scale=scale, border=4)
    return out.getvalue()
