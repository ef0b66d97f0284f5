"""The app factory every Pangolin app is built with.

A service describes itself once (`ServiceDefinition`); `create_service_app` gives it the
lifespan that owns the database, the NATS connection, the outbox relay, its consumers and RPC
endpoints, plus `/health`, `/ready`, problem+json errors and telemetry. Nothing is created at
import: settings and clients are made when the app is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from pangolin_core.db import Database
from pangolin_core.errors import PROBLEM_BASE, install_problem_handlers, problem_response
from pangolin_core.heap import freeze_at_start
from pangolin_core.identity import IdentityVerifier
from pangolin_core.messaging.connection import connect_nats, ensure_streams
from pangolin_core.messaging.consumer import ConsumerSpec, EventConsumer
from pangolin_core.messaging.outbox import OutboxRelay
from pangolin_core.messaging.rpc import RpcClient, RpcEndpoint, RpcServer
from pangolin_core.settings import ServiceSettings
from pangolin_core.telemetry import (
    Telemetry,
    configure_logging,
    instrument_engine,
    setup_telemetry,
)

log = structlog.get_logger(__name__)


@dataclass
class ServiceRuntime:
    """What the lifespan opened, handed to routers as `request.app.state.runtime`."""

    definition: ServiceDefinition
    settings: ServiceSettings
    telemetry: Telemetry
    db: Database
    identity: IdentityVerifier
    nc: NATS
    js: JetStreamContext
    rpc: RpcClient
    relay: OutboxRelay
    consumers: list[EventConsumer] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


ExtraLifespan = Callable[[ServiceRuntime], AbstractAsyncContextManager[None]]
# Loads what a fresh local suite needs (reference data, demo records) into a migrated
# database; returns a line for the operator. Run by `pangolin up`, never in production.
Seed = Callable[[ServiceSettings], Coroutine[Any, Any, str]]
# More for `/ready` to say (the gateway reports its upstreams): added to the body, while the
# status stays about this app's own database and NATS.
Readiness = Callable[[ServiceRuntime], Coroutine[Any, Any, dict[str, Any]]]


@asynccontextmanager
async def background_task(work: Coroutine[Any, Any, None], *, name: str) -> AsyncIterator[None]:
    """Run `work` as a task for the duration of the block (a lifespan's refresher or
    schedule); on exit it is cancelled and awaited, so nothing outlives the app."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    description: str
    migrations: Path
    routers: Sequence[APIRouter] = ()
    consumers: Callable[[ServiceRuntime], Sequence[ConsumerSpec]] = lambda _rt: ()
    rpc_endpoints: Callable[[ServiceRuntime], Sequence[RpcEndpoint[Any, Any]]] = lambda _rt: ()
    lifespan: ExtraLifespan | None = None
    seed: Seed | None = None
    readiness: Readiness | None = None
    version: str = "0.1.0"


def create_service_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    telemetry: Telemetry | None = None,
) -> FastAPI:
    if telemetry is None:
        configure_logging(level=settings.log_level, json=settings.log_json)
        telemetry = setup_telemetry(definition.name, otlp_endpoint=settings.otlp_endpoint)
    owned_telemetry = telemetry

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _runtime(definition, settings, owned_telemetry) as runtime:
            app.state.runtime = runtime
            yield
        del app.state.runtime

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(_health_router())
    for router in definition.routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        excluded_urls="/health,/ready",
        # A span per ASGI receive and send message is three more spans per request, which
        # say nothing the request's span does not (bench/verify_cpu.py).
        exclude_spans=["receive", "send"],
    )
    return app


@asynccontextmanager
async def _runtime(
    definition: ServiceDefinition, settings: ServiceSettings, telemetry: Telemetry
) -> AsyncIterator[ServiceRuntime]:
    db = Database(settings.database_url)
    for engine in db.engines:
        instrument_engine(engine, telemetry)
    nc: NATS | None = None
    tasks: list[asyncio.Task[None]] = []
    rpc_server: RpcServer | None = None
    consumers: list[EventConsumer] = []
    try:
        nc = await connect_nats(
            settings.nats_url,
            name=definition.name,
            connect_timeout=settings.nats_connect_timeout,
        )
        js = nc.jetstream()
        await ensure_streams(
            js, replicas=settings.stream_replicas, timeout=settings.nats_connect_timeout
        )
        relay = OutboxRelay(
            db,
            nc,
            js,
            telemetry,
            batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval,
        )
        runtime = ServiceRuntime(
            definition=definition,
            settings=settings,
            telemetry=telemetry,
            db=db,
            identity=IdentityVerifier(settings.identity_public_keys),
            nc=nc,
            js=js,
            rpc=RpcClient(nc, telemetry),
            relay=relay,
        )
        tasks.append(asyncio.create_task(relay.run(), name=f"{definition.name}-outbox"))
        for spec in definition.consumers(runtime):
            consumer = EventConsumer(spec, db, js, telemetry)
            consumers.append(consumer)
            await consumer.start()
            runtime.consumers.append(consumer)
            tasks.append(asyncio.create_task(consumer.run(), name=spec.durable))
        endpoints = definition.rpc_endpoints(runtime)
        if endpoints:
            rpc_server = RpcServer(nc, telemetry, name=definition.name, version=definition.version)
            await rpc_server.start(endpoints)
        async with contextlib.AsyncExitStack() as stack:
            if definition.lifespan is not None:
                await stack.enter_async_context(definition.lifespan(runtime))
            freeze_at_start()
            log.info("service_started", service=definition.name)
            yield runtime
    finally:
        if rpc_server is not None:
            await rpc_server.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.drain()
        await db.dispose()
        telemetry.shutdown()
        log.info("service_stopped", service=definition.name)


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Alive")
    async def health(request: Request) -> dict[str, str]:
        return {"status": "ok", "service": request.app.title}

    @router.get("/ready", summary="Database and NATS reachable", response_model=None)
    async def ready(request: Request) -> JSONResponse | dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(runtime.db.ping(), timeout=2.0)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failed: {exc!r}"[:200]
        try:
            if not runtime.nc.is_connected:
                raise ConnectionError("not connected")
            await runtime.js.account_info()
            checks["nats"] = "ok"
        except Exception as exc:
            checks["nats"] = f"failed: {exc!r}"[:200]
        if all(v == "ok" for v in checks.values()):
            body: dict[str, Any] = {"status": "ready", "checks": checks}
            if runtime.definition.readiness is not None:
                body.update(await runtime.definition.readiness(runtime))
            return body
        return problem_response(
            503,
            {
                "type": PROBLEM_BASE + "not-ready",
                "title": "Not ready",
                "status": 503,
                "detail": "A dependency of this service is not reachable.",
                "code": "not_ready",
                "checks": checks,
            },
        )

    return router
