"""The intel-share app factory: `uvicorn --factory intel_share.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from intel_share import models as _models  # noqa: F401  (registers every table)
from intel_share.audit.router import router as audit_router
from intel_share.dependencies import CODE_LISTS
from intel_share.federation.service import FEDERATION, Federation, scheduled
from intel_share.proposals.router import router as proposals_router
from intel_share.records.router import router as records_router
from intel_share.settings import IntelShareSettings
from intel_share.sharing_groups.router import router as sharing_groups_router
from intel_share.sightings.router import router as sightings_router
from intel_share.taxii.router import router as taxii_router
from pangolin_core.contracts.cites_codes import read_code_lists
from pangolin_core.service import ServiceDefinition, ServiceRuntime, create_service_app
from pangolin_core.telemetry import Telemetry


@asynccontextmanager
async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
    runtime.extras[CODE_LISTS] = read_code_lists()
    settings = runtime.settings
    assert isinstance(settings, IntelShareSettings)
    async with httpx.AsyncClient(timeout=settings.federation_timeout) as http:
        federation = Federation(
            db=runtime.db, settings=settings, http=http, codes=runtime.extras[CODE_LISTS]
        )
        runtime.extras[FEDERATION] = federation
        async with scheduled(federation):
            yield


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
        taxii_router,
    ],
    lifespan=lifespan,
)


def create_app(
    settings: IntelShareSettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or IntelShareSettings(), telemetry=telemetry)
