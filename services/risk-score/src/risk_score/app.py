"""The risk-score app factory: `uvicorn --factory risk_score.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from pangolin_core.messaging.consumer import ConsumerSpec
from pangolin_core.service import (
    ServiceDefinition,
    ServiceRuntime,
    background_task,
    create_service_app,
)
from pangolin_core.telemetry import Telemetry
from risk_score.assessments.handlers import rpc_endpoints
from risk_score.assessments.router import router as assessments_router
from risk_score.dependencies import state_of, writer_of
from risk_score.evaluation.router import router as evaluation_router
from risk_score.history.handlers import permit_consumer
from risk_score.history.lifespan import trade_history_and_model
from risk_score.history.service import apply_after_commit
from risk_score.models.router import router as models_router
from risk_score.outcomes.router import router as outcomes_router
from risk_score.profiles.router import router as profiles_router
from risk_score.profiles.service import PROFILES
from risk_score.seed import seed
from risk_score.settings import RiskScoreSettings
from risk_score.species.handlers import species_consumer
from risk_score.species.service import SPECIES
from risk_score.watchlists.handlers import watchlist_consumer
from risk_score.watchlists.service import WATCHLISTS


def consumers(runtime: ServiceRuntime) -> Sequence[ConsumerSpec]:
    state = state_of(runtime)
    # Changes reach memory when their transaction commits; registered before any consumer.
    runtime.db.on_commit(state.read_models.on_commit)
    runtime.db.on_commit(apply_after_commit(state.history))
    return [
        watchlist_consumer(state.watchlists),
        species_consumer(state.species),
        permit_consumer(),
    ]


@asynccontextmanager
async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
    """Load every read model, then serve: profiles, watchlists and species, then the trade
    history, then the promoted model (which reads features of that history)."""
    state = state_of(runtime)
    await state.profiles.load(runtime.db)
    await state.watchlists.load(runtime.db)
    await state.species.load(runtime.db)
    loaders = {
        PROFILES: state.profiles.load,
        WATCHLISTS: state.watchlists.load,
        SPECIES: state.species.load,
    }
    refresher = state.read_models.keep_current(runtime.db, loaders, state.settings.refresh_interval)
    try:
        async with (
            trade_history_and_model(runtime, history=state.history, scorer=state.model),
            background_task(refresher, name="risk-score-read-models"),
        ):
            yield
    finally:
        await writer_of(runtime).close()


DEFINITION = ServiceDefinition(
    name="risk-score",
    title="Pangolin risk-score",
    description=(
        "Targeting profiles, explainable risk scoring and control lanes,"
        " inspection outcomes, evaluation."
    ),
    migrations=Path(__file__).parent / "migrations",
    routers=[
        profiles_router,
        evaluation_router,
        assessments_router,
        outcomes_router,
        models_router,
    ],
    consumers=consumers,
    rpc_endpoints=rpc_endpoints,
    lifespan=lifespan,
    seed=seed,
)


def create_app(
    settings: RiskScoreSettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or RiskScoreSettings(), telemetry=telemetry)
