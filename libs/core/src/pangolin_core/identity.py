"""The internal identity the gateway forwards to services (`X-Pangolin-Identity`).

A short-lived JWT signed with the gateway's Ed25519 key (EdDSA). Services hold only public
keys, so a compromised service cannot mint identities; several public keys may be trusted at
once, so keys rotate without downtime. A call without a valid token is refused with 401.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from fastapi import Depends, Request

from pangolin_core.contracts.roles import Role, scope_grants, scopes_for
from pangolin_core.errors import Forbidden, Unauthenticated

IDENTITY_HEADER = "X-Pangolin-Identity"
ISSUER = "pangolin-gateway"
AUDIENCE = "pangolin-services"
_ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Caller:
    """Who is calling: a client of the gateway, with its country, roles and scopes."""

    client_id: str
    country: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    request_id: str | None = None

    def has_scope(self, wanted: str) -> bool:
        return any(scope_grants(granted, wanted) for granted in self.scopes)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class IdentitySigner:
    """Used by the gateway: turns an authenticated client into a signed identity token."""

    def __init__(self, private_key_pem: str, *, ttl_seconds: int = 60) -> None:
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the identity private key must be an Ed25519 key")
        self._key = key
        self._kid = key_id(key.public_key())
        self.ttl = timedelta(seconds=ttl_seconds)

    def sign(self, caller: Caller) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": caller.client_id,
            "iat": now,
            "exp": now + self.ttl,
            "jti": str(uuid4()),
            "ctry": caller.country,
            "roles": sorted(caller.roles),
            "scope": " ".join(sorted(caller.scopes)),
        }
        if caller.request_id:
            claims["rid"] = caller.request_id
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM, headers={"kid": self._kid})


class IdentityVerifier:
    """Used by every service: checks the signature, issuer, audience and expiry."""

    def __init__(self, public_key_pems: Iterable[str], *, leeway_seconds: int = 5) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        for pem in public_key_pems:
            key = load_pem_public_key(pem.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("identity public keys must be Ed25519 keys")
            self._keys[key_id(key)] = key
        if not self._keys:
            raise ValueError("no identity public key configured")
        self.leeway = leeway_seconds

    def verify(self, token: str) -> Caller:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthenticated("The identity token is signed with an unknown key.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The identity token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The identity token is not valid: {exc}") from exc
        return Caller(
            client_id=str(claims["sub"]),
            country=str(claims.get("ctry", "")),
            roles=frozenset(claims.get("roles", [])),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            request_id=claims.get("rid"),
        )


ANONYMOUS_DEV_CALLER = Caller(
    client_id="anonymous-dev",
    country="XX",
    roles=frozenset({r.value for r in Role}),
    scopes=scopes_for(set(Role)),
)


async def current_caller(request: Request) -> Caller:
    # async: a plain `def` dependency costs a thread-pool trip on every request
    runtime = request.app.state.runtime
    token = request.headers.get(IDENTITY_HEADER)
    if not token:
        if runtime.settings.allow_anonymous:
            return ANONYMOUS_DEV_CALLER
        raise Unauthenticated(
            "Call this service through the gateway: no identity token was forwarded."
        )
    verifier: IdentityVerifier = runtime.identity
    return verifier.verify(token)


CallerDep = Annotated[Caller, Depends(current_caller)]


def requires_scope(*scopes: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller must hold every one of `scopes` (403 otherwise)."""

    async def check(caller: CallerDep) -> Caller:
        missing = [s for s in scopes if not caller.has_scope(s)]
        if missing:
            raise Forbidden(
                f"This call needs the scope(s): {', '.join(missing)}.", missing_scopes=missing
            )
        return caller

    return check


def requires_any_scope(*scopes: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the caller must hold at least one of `scopes` (403 otherwise), like a
    gateway route rule."""

    async def check(caller: CallerDep) -> Caller:
        if not any(caller.has_scope(s) for s in scopes):
            raise Forbidden(
                f"This call needs one of the scopes: {', '.join(scopes)}.",
                missing_scopes=list(scopes),
            )
        return caller

    return check
