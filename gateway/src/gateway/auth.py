"""Who is calling: an access token (`Authorization: Bearer`) or an API key (`X-API-Key`),
checked against the in-memory client directory (no database trip per request).

`open_authenticator(runtime)` opens it for the lifespan: it loads the directory, keeps it fresh
in a background task, and leaves the authenticator in `runtime.extras[AUTHENTICATOR]`, where
the token endpoint finds its `tokens` (the `TokenService`) and `directory`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Literal, cast

from fastapi import Request

from gateway.clients import rules
from gateway.clients.directory import ClientDirectory, ClientRecord
from gateway.clients.secrets import ApiKeyCache, parse_api_key, secret_matches
from gateway.limits.memory import InMemoryRateLimiter
from gateway.principal import Principal
from gateway.settings import GatewaySettings, RatePolicy
from gateway.tokens.keys import TokenKeys
from gateway.tokens.service import InvalidToken, TokenService
from pangolin_core.errors import Unauthenticated
from pangolin_core.service import ServiceRuntime, background_task

AUTHENTICATOR = "gateway_authenticator"  # the key in `runtime.extras`
REALM = 'Bearer realm="pangolin"'
# Checking an API key not seen before costs an argon2 verification (tens of ms of CPU): per
# key id, at most 10 such checks at once and then one every 6 s, so someone who learnt a key id
# cannot keep the gateway's CPU busy guessing its secret. Keys that verified are cached and
# never count.
API_KEY_CHECKS = RatePolicy(rate=1 / 6, burst=10)


def _refused(description: str, *, token_given: bool) -> Unauthenticated:
    """A 401 with the RFC 6750 challenge (`invalid_token` when a credential was given)."""
    challenge = REALM
    if token_given:
        quoted = description.replace("\\", "").replace('"', "'")  # a quoted-string
        challenge += f', error="invalid_token", error_description="{quoted}"'
    return Unauthenticated(description, headers={"WWW-Authenticate": challenge})


def _bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class ClientAuthenticator:
    """Satisfies `gateway.state.Authenticator`."""

    def __init__(
        self,
        *,
        directory: ClientDirectory,
        tokens: TokenService,
        role_rate_limits: Mapping[str, RatePolicy],
    ) -> None:
        self.directory = directory
        self.tokens = tokens
        self._role_rate_limits = role_rate_limits
        self._api_keys = ApiKeyCache()
        self._api_key_checks = InMemoryRateLimiter()
        self._api_key_checks_running: dict[str, asyncio.Future[bool]] = {}

    async def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        if authorization:
            token = _bearer_token(authorization)
            if token is not None:
                return self._by_token(token)
        if api_key:
            return await self._by_api_key(api_key)
        if authorization:
            raise _refused(
                "Send `Authorization: Bearer <access token>` or an `X-API-Key`.",
                token_given=False,
            )
        raise _refused(
            "Credentials are required: an access token (POST /oauth/token) or an API key.",
            token_given=False,
        )

    def _by_token(self, token: str) -> Principal:
        try:
            claims = self.tokens.verify(token)
        except InvalidToken as exc:
            raise _refused(str(exc), token_given=True) from exc
        client = self._usable(self.directory.get(claims.client_id), credential="access token")
        if rules.issued_before_rotation(claims.issued_at, client.rotated_at):
            raise _refused(
                "The access token was issued before the client's secret was rotated.",
                token_given=True,
            )
        scopes = rules.effective_scopes(claims.scopes, client.scopes)
        return self._principal(client, scopes, "bearer")

    async def _by_api_key(self, api_key: str) -> Principal:
        parsed = parse_api_key(api_key)
        client = self.directory.by_api_key_id(parsed[0]) if parsed else None
        client = self._usable(client, credential="API key")
        if not self._api_keys.lookup(api_key, client_id=client.id, rotated_at=client.rotated_at):
            assert parsed is not None  # a client was found by its id
            if not await self._check_api_key(api_key, parsed, client):
                raise _refused("The API key is not valid.", token_given=True)
        return self._principal(client, client.scopes, "api_key")

    async def _check_api_key(
        self, api_key: str, parsed: tuple[str, str], client: ClientRecord
    ) -> bool:
        """One argon2 verification per distinct key, however many requests bring it at once
        (a burst after a restart costs one check, not one per request)."""
        pending = self._api_key_checks_running.get(api_key)
        if pending is not None:
            return await asyncio.shield(pending)
        key_id, secret = parsed
        if not self._api_key_checks.take(key_id, API_KEY_CHECKS).allowed:
            raise _refused(
                "Too many checks of wrong API keys for this key id; try again later.",
                token_given=True,
            )
        check = asyncio.ensure_future(
            asyncio.to_thread(secret_matches, client.api_key_hash, secret)
        )
        self._api_key_checks_running[api_key] = check
        try:
            matches = await asyncio.shield(check)
        finally:
            self._api_key_checks_running.pop(api_key, None)
        if matches:
            self._api_keys.remember(api_key, client_id=client.id, rotated_at=client.rotated_at)
        return matches

    @staticmethod
    def _usable(client: ClientRecord | None, *, credential: str) -> ClientRecord:
        if client is None:
            raise _refused(f"The {credential} is not valid.", token_given=True)
        if not client.active:
            raise _refused("The client is disabled.", token_given=True)
        return client

    def _principal(
        self,
        client: ClientRecord,
        scopes: frozenset[str],
        method: Literal["bearer", "api_key"],
    ) -> Principal:
        policy = rules.rate_policy(
            rate=client.rate,
            burst=client.burst,
            roles=client.roles,
            defaults=self._role_rate_limits,
        )
        return Principal(
            client_id=client.id,
            name=client.name,
            country=client.country,
            roles=client.roles,
            scopes=scopes,
            method=method,
            rate_policy=policy,
        )


@asynccontextmanager
async def open_authenticator(runtime: ServiceRuntime) -> AsyncIterator[ClientAuthenticator]:
    """The authenticator for the app's lifespan, with its directory kept fresh."""
    settings = cast(GatewaySettings, runtime.settings)
    directory = ClientDirectory(runtime.db, refresh_seconds=settings.client_refresh_seconds)
    await directory.refresh()
    runtime.db.on_commit(directory.on_commit)
    tokens = TokenService(
        TokenKeys.from_settings(settings),
        issuer=settings.token_issuer,
        ttl_seconds=settings.token_ttl_seconds,
    )
    authenticator = ClientAuthenticator(
        directory=directory, tokens=tokens, role_rate_limits=settings.role_rate_limits
    )
    runtime.extras[AUTHENTICATOR] = authenticator
    try:
        async with background_task(directory.run(), name="gateway-client-refresh"):
            yield authenticator
    finally:
        runtime.extras.pop(AUTHENTICATOR, None)


def client_authenticator(request: Request) -> ClientAuthenticator:
    """The app's authenticator, for the gateway's own endpoints (token, admin)."""
    authenticator: ClientAuthenticator = request.app.state.runtime.extras[AUTHENTICATOR]
    return authenticator
