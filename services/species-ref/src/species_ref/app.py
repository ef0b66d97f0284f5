"""The species-ref app factory: `uvicorn --factory species_ref.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from pangolin_core.service import ServiceDefinition, ServiceRuntime, create_service_app
from pangolin_core.telemetry import Telemetry
from species_ref.codes.router import router as codes_router
from species_ref.codes.service import read_code_lists
from species_ref.guides.router import router as guides_router
from species_ref.matching.router import router as matching_router
from species_ref.publications.jobs import publication_jobs
from species_ref.publications.router import router as publications_router
from species_ref.reference.refresh import reference_snapshot
from species_ref.restrictions.router import router as restrictions_router
from species_ref.rpc import rpc_endpoints
from species_ref.seed import seed
from species_ref.settings import SpeciesRefSettings
from species_ref.speciesplus.router import router as speciesplus_router
from species_ref.speciesplus.schedule import speciesplus_schedule
from species_ref.status.router import router as status_router
from species_ref.taxa.router import router as taxa_router


@asynccontextmanager
async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, SpeciesRefSettings)
    runtime.extras["code_lists"] = read_code_lists()
    async with (
        reference_snapshot(runtime, interval=settings.reference_refresh_seconds),
        publication_jobs(runtime, settings),
        speciesplus_schedule(runtime, settings),
    ):
        yield


DEFINITION = ServiceDefinition(
    name="species-ref",
    title="Pangolin species-ref",
    description=(
        "The CITES species reference: taxa, names, listings over time, quotas,"
        " suspensions, ID guides, code lists; publications by Management Authorities."
    ),
    migrations=Path(__file__).parent / "migrations",
    routers=[
        codes_router,
        taxa_router,
        restrictions_router,
        guides_router,
        matching_router,
        status_router,
        publications_router,
        speciesplus_router,
    ],
    rpc_endpoints=rpc_endpoints,
    lifespan=lifespan,
    seed=seed,
)


def create_app(
    settings: SpeciesRefSettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or SpeciesRefSettings(), telemetry=telemetry)
