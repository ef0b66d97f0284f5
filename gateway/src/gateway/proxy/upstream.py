"""One pooled HTTP client per upstream service, with its circuit breaker.

The client is aiohttp's: on this machine a proxy on it kept ~50 % of a service's direct
throughput where one on `httpx.AsyncClient` kept 7-11 % (httpcore's pool bookkeeping) and
httpx over the aiohttp transport ~30 % (`../shared/MEASURED.md`; `bench/gateway.py` measures
ours, docs/gateway.md has the figures).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast

import aiohttp
import structlog

from gateway.proxy.breaker import BreakerState, CircuitBreaker
from gateway.settings import GatewaySettings
from pangolin_core.service import ServiceRuntime

log = structlog.get_logger(__name__)

# Below uvicorn's default keep-alive (5 s): a pooled connection is never reused just as the
# service closes it (that race shows as a disconnect on a request that was never read).
_KEEPALIVE_SECONDS = 4.0


@dataclass
class Upstream:
    name: str
    base_url: str
    session: aiohttp.ClientSession
    breaker: CircuitBreaker

    def allow(self) -> bool:
        was = self.breaker.state
        allowed = self.breaker.allow(time.monotonic())
        if was is not self.breaker.state:
            log.info("breaker_half_open", upstream=self.name)
        return allowed

    def retry_after(self) -> float:
        return self.breaker.retry_after(time.monotonic())

    def succeeded(self) -> None:
        if self.breaker.state is not BreakerState.CLOSED:
            log.info("breaker_closed", upstream=self.name)
        self.breaker.succeeded()

    def failed(self, error: BaseException) -> None:
        was = self.breaker.state
        self.breaker.failed(time.monotonic())
        if self.breaker.state is BreakerState.OPEN and was is not BreakerState.OPEN:
            log.warning(
                "breaker_opened",
                upstream=self.name,
                error=repr(error),
                reset_seconds=self.breaker.reset_seconds,
            )


class UpstreamPool:
    """The upstreams by name (`species-ref`, `permit-verify`, ...)."""

    def __init__(self, upstreams: dict[str, Upstream]) -> None:
        self._upstreams = upstreams

    def __getitem__(self, name: str) -> Upstream:
        return self._upstreams[name]

    @property
    def all(self) -> list[Upstream]:
        return list(self._upstreams.values())

    async def readiness(self, timeout: float = 2.0) -> dict[str, str]:
        """Each upstream's `/ready`, asked at once: `ok`, or why not."""

        async def one(upstream: Upstream) -> tuple[str, str]:
            try:
                async with upstream.session.get(
                    upstream.base_url + "/ready", timeout=aiohttp.ClientTimeout(total=timeout)
                ) as response:
                    if response.status == 200:
                        return upstream.name, "ok"
                    return upstream.name, f"not ready ({response.status})"
            except (aiohttp.ClientError, TimeoutError) as exc:
                return upstream.name, f"unreachable: {exc!r}"[:200]

        answers = await asyncio.gather(*(one(u) for u in self._upstreams.values()))
        return dict(answers)


def _session(settings: GatewaySettings) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_pool_size,
        keepalive_timeout=_KEEPALIVE_SECONDS,
        ttl_dns_cache=60,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=settings.upstream_timeout, connect=settings.upstream_connect_timeout
        ),
        auto_decompress=False,  # bytes pass through as the service sent them
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


@asynccontextmanager
async def open_upstreams(runtime: ServiceRuntime) -> AsyncIterator[UpstreamPool]:
    settings = cast(GatewaySettings, runtime.settings)
    upstreams = {
        name: Upstream(
            name=name,
            base_url=url.rstrip("/"),
            session=_session(settings),
            breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds),
        )
        for name, url in settings.upstream_urls().items()
    }
    try:
        yield UpstreamPool(upstreams)
    finally:
        await asyncio.gather(*(u.session.close() for u in upstreams.values()))
