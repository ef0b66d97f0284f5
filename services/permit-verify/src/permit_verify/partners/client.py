"""Calls to partner countries' gateways: their permits as issued, their signing keys, and
confirmations of what was endorsed here.

One httpx client, owned by the lifespan, with a timeout on every call. An OAuth2
client-credentials token per partner is kept until shortly before it expires; fetched
permits and JWKS are kept for a short while (settings), so a declaration's lines and its
replays do not call the partner again. A partner that is not in the directory, times out,
refuses this registry's credentials or answers 5xx is `PartnerUnavailable`: verification
turns that into PARTNER_UNAVAILABLE, the confirmation consumer into a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import structlog
from pydantic import ValidationError

from permit_verify.partners.schemas import ConfirmationIn
from permit_verify.permits.schemas import PermitOut
from permit_verify.settings import Partner, PermitVerifySettings

log = structlog.get_logger(__name__)

# A token is renewed this long before its `expires_in` runs out.
TOKEN_MARGIN_SECONDS = 30.0


class PartnerUnavailable(Exception):
    """The partner could not be asked, or did not give a usable answer."""


class ConfirmationRefused(Exception):
    """The partner answered and refused a confirmation for good (4xx): no retry helps."""

    def __init__(self, status: int, code: str | None, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code = status, code


@dataclass(frozen=True)
class PartnerPermit:
    """A permit as its issuing partner serves it, with the keys that verify it."""

    permit: PermitOut
    jwks: dict[str, Any]


T = TypeVar("T")


@dataclass
class _Cached(Generic[T]):
    value: T
    until: float


class PartnerDirectory:
    def __init__(
        self, settings: PermitVerifySettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.partners: dict[str, Partner] = dict(settings.partners)
        self._permit_ttl = settings.partner_permit_cache_seconds
        self._jwks_ttl = settings.partner_jwks_cache_seconds
        self._http = client or httpx.AsyncClient(timeout=settings.partner_timeout)
        self._tokens: dict[str, _Cached[str]] = {}
        # (country, number) -> the permit, or None: the partner has no such permit.
        self._permits: dict[tuple[str, str], _Cached[PermitOut | None]] = {}
        self._jwks: dict[str, _Cached[dict[str, Any]]] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}

    def __contains__(self, country: object) -> bool:
        return country in self.partners

    async def aclose(self) -> None:
        await self._http.aclose()

    def _url(self, country: str, path: str) -> str:
        return str(self.partners[country].gateway_url).rstrip("/") + path

    async def _token(self, country: str) -> str:
        now = time.monotonic()
        cached = self._tokens.get(country)
        if cached is not None and cached.until > now:
            return cached.value
        async with self._token_locks.setdefault(country, asyncio.Lock()):
            cached = self._tokens.get(country)
            if cached is not None and cached.until > time.monotonic():
                return cached.value
            partner = self.partners[country]
            response = await self._http.post(
                self._url(country, "/oauth/token"),
                data={"grant_type": "client_credentials"},
                auth=(partner.client_id, partner.client_secret.get_secret_value()),
            )
            if response.status_code != 200:
                raise PartnerUnavailable(
                    f"{country}'s gateway refused this registry's credentials"
                    f" ({response.status_code})"
                )
            body = response.json()
            expires_in = float(body.get("expires_in", 300))
            token = str(body["access_token"])
            self._tokens[country] = _Cached(
                token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0.0)
            )
            return token

    async def _get(self, country: str, path: str, params: dict[str, str] | None = None) -> Any:
        """The JSON of a GET at the partner's gateway; None for a 404."""
        if country not in self.partners:
            raise PartnerUnavailable(f"{country} is not in the partner directory")
        try:
            token = await self._token(country)
            response = await self._http.get(
                self._url(country, path),
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 401:  # the token was revoked or rotated: once more
                self._tokens.pop(country, None)
                token = await self._token(country)
                response = await self._http.get(
                    self._url(country, path),
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise PartnerUnavailable(
                    f"{country}'s gateway answered {response.status_code} to GET {path}"
                )
            return response.json()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise PartnerUnavailable(f"{country}'s gateway did not answer: {exc!r}") from exc

    async def jwks(self, country: str) -> dict[str, Any]:
        cached = self._jwks.get(country)
        if cached is not None and cached.until > time.monotonic():
            return cached.value
        keys = await self._get(country, f"/v1/permits/jwks/{country}")
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise PartnerUnavailable(f"{country} published no JWKS")
        self._jwks[country] = _Cached(keys, time.monotonic() + self._jwks_ttl)
        return keys

    async def permit(self, country: str, number: str) -> PartnerPermit | None:
        """The permit as `country` issued it, with its keys; None when the partner has no
        such permit. `PartnerUnavailable` when it could not tell."""
        key = (country, number)
        cached = self._permits.get(key)
        if cached is not None and cached.until > time.monotonic():
            permit = cached.value
        else:
            raw = await self._get(
                country,
                "/v1/permits/lookup",
                params={"number": number, "issuing_country": country},
            )
            try:
                permit = None if raw is None else PermitOut.model_validate(raw)
            except ValidationError as exc:
                raise PartnerUnavailable(f"{country} answered outside the contract") from exc
            if permit is not None and (permit.issuing_country, permit.number) != key:
                raise PartnerUnavailable(f"{country} answered with another permit")
            self._permits[key] = _Cached(permit, time.monotonic() + self._permit_ttl)
        if permit is None:
            return None
        return PartnerPermit(permit, await self.jwks(country))

    async def confirm(self, country: str, permit_id: str, confirmation: ConfirmationIn) -> None:
        """Tell the issuing partner what was endorsed here. Done when it recorded it now or
        before (409 `declaration_already_endorsed`); `ConfirmationRefused` for another 4xx;
        `PartnerUnavailable` when it should be tried again."""
        if country not in self.partners:
            raise ConfirmationRefused(0, None, f"{country} is not in the partner directory")
        path = f"/v1/permits/{permit_id}/confirmations"
        try:
            token = await self._token(country)
            response = await self._http.post(
                self._url(country, path),
                content=confirmation.model_dump_json(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise PartnerUnavailable(f"{country}'s gateway did not answer: {exc!r}") from exc
        if response.status_code in (200, 201):
            self._permits = {k: v for k, v in self._permits.items() if k[0] != country}
            return
        code = None
        with contextlib.suppress(ValueError, AttributeError):
            code = response.json().get("code")
        if response.status_code == 409 and code == "declaration_already_endorsed":
            return
        if response.status_code == 401:
            self._tokens.pop(country, None)
        if response.status_code >= 500 or response.status_code in (401, 408, 429):
            raise PartnerUnavailable(f"{country}'s gateway answered {response.status_code}")
        raise ConfirmationRefused(response.status_code, code, response.text[:500])
