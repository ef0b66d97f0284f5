"""A TAXII 2.1 client for partner instances, over one `httpx.AsyncClient` owned by the lifespan.

httpx (async) rather than taxii2-client in a thread: the exchange runs as a task of the
service's event loop, so shutdown cancels it mid-request, every call has the settings'
timeout, and no thread pool is held. The protocol surface is small (collections, pages of
objects with `added_after` / `next`, add objects); the server's tests check it against the
real taxii2-client.

A partner's gateway authenticates this instance with OAuth2 client credentials (its
`partner` client, `intel:federate`); the token is kept until shortly before it expires.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from intel_share.settings import TaxiiPartner
from intel_share.taxii.schemas import TAXII_MEDIA_TYPE

# Headers that authenticate one request to a partner (a bearer token, or in tests the
# identity header its gateway would forward).
Authenticator = Callable[[], Awaitable[dict[str, str]]]
TOKEN_MARGIN_SECONDS = 30.0


class PartnerUnavailable(Exception):
    """The partner could not be asked, or did not give a usable answer."""


@dataclass
class ClientCredentials:
    """`Authenticator` of a partner's gateway: OAuth2 client credentials, token cached."""

    http: httpx.AsyncClient
    token_url: str
    client_id: str
    client_secret: str
    _token: str | None = None
    _until: float = 0.0

    async def __call__(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._until:
            try:
                response = await self.http.post(
                    self.token_url,
                    data={"grant_type": "client_credentials", "scope": "intel:federate"},
                    auth=(self.client_id, self.client_secret),
                )
                response.raise_for_status()
                body = response.json()
                self._token = str(body["access_token"])
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                raise PartnerUnavailable(f"no token from {self.token_url}: {exc}") from exc
            self._until = (
                time.monotonic() + float(body.get("expires_in", 300)) - TOKEN_MARGIN_SECONDS
            )
        return {"Authorization": f"Bearer {self._token}"}


def credentials_of(partner: TaxiiPartner, http: httpx.AsyncClient) -> ClientCredentials:
    api_root = httpx.URL(str(partner.api_root))
    token_url = str(partner.token_url or api_root.copy_with(path="/oauth/token"))
    return ClientCredentials(
        http, token_url, partner.client_id, partner.client_secret.get_secret_value()
    )


@dataclass
class ObjectsPulled:
    objects: list[dict[str, Any]] = field(default_factory=list)
    last_added: str | None = None  # X-TAXII-Date-Added-Last of the last page with objects


@dataclass
class TaxiiPartnerClient:
    """One partner's TAXII API root."""

    country: str
    api_root: str
    http: httpx.AsyncClient
    authenticate: Authenticator
    page_size: int = 100

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Accept": TAXII_MEDIA_TYPE, **(await self.authenticate())}
        if "json" in kwargs:
            headers["Content-Type"] = TAXII_MEDIA_TYPE
        url = self.api_root.rstrip("/") + "/" + path
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise PartnerUnavailable(f"{self.country}: {exc!r}") from exc
        if response.status_code >= 400:
            raise PartnerUnavailable(f"{self.country}: {method} {url} -> {response.status_code}")
        return response

    async def collections(self) -> list[dict[str, Any]]:
        response = await self._request("GET", "collections/")
        collections: list[dict[str, Any]] = response.json().get("collections", [])
        return collections

    async def pull(self, collection_id: str, *, added_after: str | None) -> ObjectsPulled:
        """Every object (last versions) added after `added_after`, all pages."""
        pulled = ObjectsPulled()
        params: dict[str, Any] = {"limit": self.page_size}
        if added_after:
            params["added_after"] = added_after
        while True:
            response = await self._request(
                "GET", f"collections/{collection_id}/objects/", params=params
            )
            envelope = response.json()
            pulled.objects += envelope.get("objects", [])
            if envelope.get("objects"):
                pulled.last_added = response.headers.get("X-TAXII-Date-Added-Last")
            if not envelope.get("more") or not envelope.get("next"):
                return pulled
            params = {"limit": self.page_size, "next": envelope["next"]}

    async def push(self, collection_id: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """Add objects; the partner's status resource (complete when it answers)."""
        response = await self._request(
            "POST", f"collections/{collection_id}/objects/", json={"objects": objects}
        )
        status: dict[str, Any] = response.json()
        return status
