"""The merged API description: the services' documents fetched concurrently, merged, cached.

A service that does not answer in time is left out and named under `x-pangolin-unavailable`;
the document is still served. A complete document is kept for a minute, an incomplete one
for a few seconds, so a service that comes back shows up soon.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from fastapi import FastAPI

from gateway.apidoc.merge import Document, merge_documents
from gateway.state import gateway_state

log = structlog.get_logger(__name__)

FETCH_TIMEOUT = httpx.Timeout(2.0, connect=1.0)
KEEP_SECONDS = 60.0
KEEP_INCOMPLETE_SECONDS = 5.0


async def _fetch(client: httpx.AsyncClient, service: str, base_url: str) -> Document | None:
    url = base_url.rstrip("/") + "/openapi.json"
    try:
        response = await client.get(url)
        response.raise_for_status()
        doc = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("openapi_fetch_failed", service=service, url=url, error=repr(exc))
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        log.warning("openapi_fetch_failed", service=service, url=url, error="not OpenAPI")
        return None
    return doc


async def fetch_documents(
    base_urls: Mapping[str, str], *, timeout: httpx.Timeout = FETCH_TIMEOUT
) -> tuple[dict[str, Document], list[str]]:
    """Each service's `/openapi.json`, all at once; and the services that did not give one."""
    # trust_env off: the services are internal addresses, never reached through a proxy.
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        found = await asyncio.gather(
            *(_fetch(client, service, url) for service, url in base_urls.items())
        )
    docs = {service: doc for service, doc in zip(base_urls, found, strict=True) if doc}
    return docs, sorted(set(base_urls) - set(docs))


class ApiDescription:
    """The document `GET /openapi.json` serves, for one gateway app."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._lock = asyncio.Lock()
        self._document: Document | None = None
        self._expires = 0.0

    async def document(self) -> Document:
        if self._document is not None and time.monotonic() < self._expires:
            return self._document
        async with self._lock:  # one fetch for every request waiting on it
            if self._document is not None and time.monotonic() < self._expires:
                return self._document
            upstreams = gateway_state(self._app).settings.upstream_urls()
            docs, unavailable = await fetch_documents(upstreams)
            document = merge_documents(self._own(), docs, unavailable)
            keep = KEEP_INCOMPLETE_SECONDS if unavailable else KEEP_SECONDS
            self._document, self._expires = document, time.monotonic() + keep
            return document

    def _own(self) -> dict[str, Any]:
        return self._app.openapi()
