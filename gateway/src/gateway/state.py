"""What the gateway's lifespan opens, shared by its middleware and its own endpoints.

Each part is built by its own module (`open_*` context managers) and set here by the
lifespan in `gateway.app`; the contracts below are what the rest of the gateway relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from fastapi import FastAPI
from opentelemetry.trace import Tracer

from gateway.principal import Principal
from gateway.settings import GatewaySettings, RatePolicy
from pangolin_core.identity import IdentitySigner

if TYPE_CHECKING:
    from gateway.proxy.upstream import UpstreamPool


class Authenticator(Protocol):
    async def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller of a request, from its `Authorization: Bearer` header or `X-API-Key`.

        Raises `pangolin_core.errors.Unauthenticated` (401, with a `WWW-Authenticate`
        header) when neither is given or what is given is not valid: unknown, expired,
        signed by a key not trusted, issued before the client's secret was rotated, or
        belonging to a disabled client."""
        ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    policy: RatePolicy
    remaining: int  # whole requests left in the bucket after this one
    reset_seconds: float  # until the bucket is full again
    retry_after_seconds: float  # until one request would be admitted (0 when allowed)


class RateLimiter(Protocol):
    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision:
        """Take one token from the bucket `key` (a client id) under `policy`."""
        ...


@dataclass(frozen=True)
class AuditRecord:
    at: datetime  # when the request arrived (UTC)
    request_id: str
    method: str
    path: str  # as requested, without the query string
    route: str  # the route table pattern, or the gateway's own path
    status: int
    latency_ms: float
    client_id: str | None = None  # None: the caller did not authenticate
    country: str | None = None
    upstream: str | None = None  # None: answered by the gateway itself


class AuditWriter(Protocol):
    def record(self, entry: AuditRecord) -> None:
        """Queue an entry (never blocks the request); written in batches, append-only."""
        ...


@dataclass
class GatewayState:
    settings: GatewaySettings
    signer: IdentitySigner
    tracer: Tracer
    authenticator: Authenticator = field(init=False)
    limiter: RateLimiter = field(init=False)
    audit: AuditWriter = field(init=False)
    upstreams: UpstreamPool = field(init=False)


def gateway_state(app: FastAPI) -> GatewayState:
    state: GatewayState = app.state.runtime.extras["gateway"]
    return state
