"""Access tokens: EdDSA-signed JWTs the gateway issues to its clients and checks on each call.

Claims: `iss`, `sub` (client id), `aud` (`pangolin-gateway`), `iat`, `exp`, `jti`, `scope`
(space-separated), `ctry`, `roles`. `iat` keeps its fraction of a second (a JSON number, as
RFC 7519 allows), so "issued before the client's secret was rotated" is exact.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from gateway.tokens.keys import ALGORITHM, TokenKeys

AUDIENCE = "pangolin-gateway"
_REQUIRED = ["iss", "sub", "aud", "iat", "exp", "jti"]


class InvalidToken(Exception):
    """The token is not one to accept; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    issued_at: float
    expires_at: float
    scopes: frozenset[str]


_MAX_VERIFIED = 50_000


class TokenService:
    def __init__(self, keys: TokenKeys, *, issuer: str, ttl_seconds: int, leeway: int = 5) -> None:
        self.keys = keys
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self.leeway = leeway
        # Tokens whose signature checked, until they expire: a partner sends the same token
        # for its whole life, and an EdDSA check per request cost ~0.2 ms of the gateway's CPU.
        # (Whether the client is still enabled and unrotated is asked on every request.)
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self,
        *,
        client_id: str,
        country: str,
        roles: Iterable[str],
        scopes: Iterable[str],
        not_before_rotation: float = 0.0,
    ) -> AccessToken:
        """A token for the client; `iat` is never before `not_before_rotation` (the client's
        `rotated_at`), so a token issued with new credentials always counts, whatever the
        clocks of the replicas."""
        issued_at = max(time.time(), not_before_rotation)
        scope = " ".join(sorted(set(scopes)))
        claims = {
            "iss": self.issuer,
            "sub": client_id,
            "aud": AUDIENCE,
            "iat": issued_at,
            "exp": int(issued_at) + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
            "scope": scope,
            "ctry": country,
            "roles": sorted(set(roles)),
        }
        token = jwt.encode(
            claims,
            self.keys.signing_key,
            algorithm=ALGORITHM,
            headers={"kid": self.keys.signing_kid},
        )
        return AccessToken(token, self.ttl_seconds, scope)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; `InvalidToken` otherwise."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known.expires_at + self.leeway:
                return known
            del self._verified[token]
        claims = self._verify_signed(token)
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.clear()  # a purge of mostly expired entries; each is re-checked once
        self._verified[token] = claims
        return claims

    def _verify_signed(self, token: str) -> TokenClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is malformed.") from exc
        key = self.keys.verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The access token is signed by a key this gateway does not trust.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"The access token is not valid: {exc}") from exc
        scope = claims.get("scope", "")
        if not isinstance(scope, str) or not isinstance(claims["sub"], str):
            raise InvalidToken("The access token is not valid: bad claims.")
        return TokenClaims(
            client_id=claims["sub"],
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
            scopes=frozenset(scope.split()),
        )
