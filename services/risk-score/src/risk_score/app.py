"""The risk-score app factory: `uvicorn --factory risk_score.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.telemetry import Telemetry
from risk_score.history.handlers import consumers
from risk_score.history.lifespan import trade_history_and_model
from risk_score.models.router import router as models_router
from risk_score.settings import RiskScoreSettings

DEFINITION = ServiceDefinition(
    name="risk-score",
    title="Pangolin risk-score",
    description=(
        "Targeting profiles, explainable risk scoring and control lanes,"
        " inspection outcomes, evaluation."
    ),
    migrations=Path(__file__).parent / "migrations",
    routers=[models_router],
    consumers=consumers,
    lifespan=trade_history_and_model,
)


def create_app(
    settings: RiskScoreSettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or RiskScoreSettings(), telemetry=telemetry)
