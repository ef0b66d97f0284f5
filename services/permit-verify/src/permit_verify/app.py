"""The permit-verify app factory: `uvicorn --factory permit_verify.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.telemetry import Telemetry
from permit_verify.settings import PermitVerifySettings

DEFINITION = ServiceDefinition(
    name="permit-verify",
    title="Pangolin permit-verify",
    description=(
        "The CITES permit registry, verification of declarations, endorsement"
        " and EPIX-style exchange."
    ),
    migrations=Path(__file__).parent / "migrations",
)


def create_app(
    settings: PermitVerifySettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or PermitVerifySettings(), telemetry=telemetry)
