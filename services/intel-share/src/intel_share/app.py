"""The intel-share app factory: `uvicorn --factory intel_share.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from intel_share import models as _models  # noqa: F401  (registers every table)
from intel_share.settings import IntelShareSettings
from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.telemetry import Telemetry

DEFINITION = ServiceDefinition(
    name="intel-share",
    title="Pangolin intel-share",
    description=(
        "Graded, access-controlled intelligence exchange with partner"
        " countries (STIX 2.1 / TAXII 2.1)."
    ),
    migrations=Path(__file__).parent / "migrations",
)


def create_app(
    settings: IntelShareSettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or IntelShareSettings(), telemetry=telemetry)
