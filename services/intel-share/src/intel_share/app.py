"""The intel-share app factory: `uvicorn --factory intel_share.app:create_app`."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from intel_share import models as _models  # noqa: F401  (registers every table)
from intel_share.audit.router import router as audit_router
from intel_share.dependencies import CODE_LISTS
from intel_share.federation.service import FEDERATION, Federation, scheduled
from intel_share.matching.router import router as matching_router
from intel_share.matching.service import entity_index, match_index_readiness
from intel_share.matching.source import EntitySource, RecordEntities
from intel_share.proposals.router import router as proposals_router
from intel_share.records.expiry import keep_announcing_expiries
from intel_share.records.router import router as records_router
from intel_share.rpc import rpc_endpoints
from intel_share.seed import seed
from intel_share.settings import IntelShareSettings
from intel_share.sharing_groups.router import router as sharing_groups_router
from intel_share.sightings.router import router as sightings_router
from intel_share.taxii.router import router as taxii_router
from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.service import (
    ServiceDefinition,
    ServiceRuntime,
    background_task,
    create_service_app,
)
from pangolin_core.telemetry import Telemetry


def lifespan_with(
    source: EntitySource,
) -> Callable[[ServiceRuntime], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
        settings = runtime.settings
        assert isinstance(settings, IntelShareSettings)
        runtime.extras[CODE_LISTS] = read_code_lists()
        expiries = keep_announcing_expiries(runtime.db, every_seconds=settings.expiry_check_seconds)
        async with (
            entity_index(runtime, source, reload_seconds=settings.match_index_reload_seconds),
            background_task(expiries, name="intel-share-expiries"),
            httpx.AsyncClient(timeout=settings.federation_timeout) as http,
        ):
            federation = Federation(
                db=runtime.db, settings=settings, http=http, codes=runtime.extras[CODE_LISTS]
            )
            runtime.extras[FEDERATION] = federation
            async with scheduled(federation):
                yield

    return lifespan


DEFINITION = ServiceDefinition(
    name="intel-share",
    title="Pangolin intel-share",
    description=(
        "Graded, access-controlled intelligence exchange with partner"
        " countries (STIX 2.1 / TAXII 2.1)."
    ),
    migrations=Path(__file__).parent / "migrations",
    routers=[
        records_router,
        sightings_router,
        proposals_router,
        sharing_groups_router,
        audit_router,
        matching_router,
        taxii_router,
    ],
    rpc_endpoints=rpc_endpoints,
    lifespan=lifespan_with(RecordEntities()),
    seed=seed,
    readiness=match_index_readiness,
)


def create_app(
    settings: IntelShareSettings | None = None,
    *,
    telemetry: Telemetry | None = None,
    entity_source: EntitySource | None = None,
) -> FastAPI:
    """`entity_source`: where the match index reads people and companies (the records'
    entity tables; a test passes its own)."""
    definition = DEFINITION
    if entity_source is not None:
        definition = dataclasses.replace(DEFINITION, lifespan=lifespan_with(entity_source))
    return create_service_app(definition, settings or IntelShareSettings(), telemetry=telemetry)
