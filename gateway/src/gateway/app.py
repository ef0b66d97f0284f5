"""The gateway app factory: `uvicorn --factory gateway.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from gateway.settings import GatewaySettings
from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.telemetry import Telemetry

DEFINITION = ServiceDefinition(
    name="gateway",
    title="Pangolin gateway",
    description=(
        "The one public door: partner authentication, scopes, rate limits, routing and audit."
    ),
    migrations=Path(__file__).parent / "migrations",
)


def create_app(
    settings: GatewaySettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or GatewaySettings(), telemetry=telemetry)
