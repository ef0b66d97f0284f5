"""Per-client rate limits: token buckets in memory, or shared by replicas in NATS KV."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import cast

from gateway.limits.headers import rate_limit_headers
from gateway.limits.kv import NatsKvRateLimiter
from gateway.limits.memory import InMemoryRateLimiter
from gateway.settings import GatewaySettings, RatePolicy
from gateway.state import RateLimiter
from pangolin_core.service import ServiceRuntime

__all__ = [
    "InMemoryRateLimiter",
    "NatsKvRateLimiter",
    "bucket_ttl_seconds",
    "open_rate_limiter",
    "rate_limit_headers",
]

MIN_BUCKET_TTL_SECONDS = 300.0


def bucket_ttl_seconds(policies: Iterable[RatePolicy]) -> float:
    """How long an untouched key stays in the KV bucket: a few minutes, and never less than
    the slowest policy takes to refill, after which a missing key (a full bucket) is right."""
    slowest = max((math.ceil(p.burst / p.rate) for p in policies), default=0)
    return max(MIN_BUCKET_TTL_SECONDS, float(slowest))


@asynccontextmanager
async def open_rate_limiter(runtime: ServiceRuntime) -> AsyncIterator[RateLimiter]:
    """The limiter `settings.rate_limit_backend` asks for, on the runtime's NATS connection."""
    settings = cast(GatewaySettings, runtime.settings)
    if settings.rate_limit_backend == "nats":
        limiter = NatsKvRateLimiter(
            runtime.nc,
            bucket=settings.rate_limit_bucket,
            ttl_seconds=bucket_ttl_seconds(settings.role_rate_limits.values()),
            replicas=settings.stream_replicas,
        )
        await limiter.open()
        yield limiter
    else:
        yield InMemoryRateLimiter()
