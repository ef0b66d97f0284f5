"""The gateway app factory: `uvicorn --factory gateway.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI

from gateway.apidoc.router import install_api_description
from gateway.audit.router import router as audit_router
from gateway.audit.writer import open_audit_writer
from gateway.auth import open_authenticator
from gateway.clients.router import router as clients_router
from gateway.limits import open_rate_limiter
from gateway.proxy.middleware import GatewayMiddleware
from gateway.proxy.upstream import open_upstreams
from gateway.settings import GatewaySettings
from gateway.state import GatewayState
from gateway.tokens.router import router as tokens_router
from pangolin_core.identity import IdentitySigner
from pangolin_core.service import ServiceDefinition, ServiceRuntime, create_service_app
from pangolin_core.telemetry import Telemetry


@asynccontextmanager
async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
    settings = cast(GatewaySettings, runtime.settings)
    state = GatewayState(
        settings=settings,
        signer=IdentitySigner(
            settings.identity_private_key.get_secret_value(),
            ttl_seconds=settings.identity_ttl_seconds,
        ),
        tracer=runtime.telemetry.tracer,
    )
    async with AsyncExitStack() as stack:
        # Each part opens here (one line each): authenticator, limiter, audit, upstreams.
        state.authenticator = await stack.enter_async_context(open_authenticator(runtime))
        state.audit = await stack.enter_async_context(open_audit_writer(runtime))
        state.limiter = await stack.enter_async_context(open_rate_limiter(runtime))
        state.upstreams = await stack.enter_async_context(open_upstreams(runtime))
        runtime.extras["gateway"] = state
        yield


async def readiness(runtime: ServiceRuntime) -> dict[str, Any]:
    """The gateway is ready when its own database and NATS are; `/ready` also says which
    services answer, so one look tells an operator what partners can reach."""
    upstreams = await runtime.extras["gateway"].upstreams.readiness()
    everything = all(status == "ok" for status in upstreams.values())
    return {"upstreams": upstreams, "status": "ready" if everything else "degraded"}


DEFINITION = ServiceDefinition(
    name="gateway",
    title="Pangolin gateway",
    description=(
        "The one public door: partner authentication, scopes, rate limits, routing and audit."
    ),
    migrations=Path(__file__).parent / "migrations",
    routers=[tokens_router, clients_router, audit_router],
    lifespan=lifespan,
    readiness=readiness,
)


def create_app(
    settings: GatewaySettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    app = create_service_app(DEFINITION, settings or GatewaySettings(), telemetry=telemetry)
    app.add_middleware(GatewayMiddleware)
    return install_api_description(app)
