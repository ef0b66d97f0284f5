"""The permit-verify app factory: `uvicorn --factory permit_verify.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from pangolin_core.contracts.cites_codes import Code, CodeListName, CodeLists, read_code_lists
from pangolin_core.service import ServiceDefinition, ServiceRuntime, create_service_app
from pangolin_core.telemetry import Telemetry
from permit_verify.audit.router import router as audit_router
from permit_verify.dependencies import CODE_LISTS, PARTNERS, SIGNER
from permit_verify.endorsements.router import router as endorsements_router
from permit_verify.partners.client import PartnerDirectory
from permit_verify.partners.handlers import consumers
from permit_verify.partners.router import router as partners_router
from permit_verify.permits.router import router as permits_router
from permit_verify.permits.signing import PermitSigner
from permit_verify.settings import EXTRA_COUNTRY_DESCRIPTION, PermitVerifySettings
from permit_verify.tokens.router import router as tokens_router
from permit_verify.verifications.router import router as verifications_router


@asynccontextmanager
async def lifespan(runtime: ServiceRuntime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, PermitVerifySettings)
    runtime.extras[CODE_LISTS] = with_extra_countries(
        read_code_lists(), settings.extra_country_codes
    )
    runtime.extras[SIGNER] = PermitSigner(settings)
    directory = PartnerDirectory(settings)
    runtime.extras[PARTNERS] = directory
    try:
        yield
    finally:
        await directory.aclose()


def with_extra_countries(codes: CodeLists, extra: list[str]) -> CodeLists:
    """The CITES lists plus the user-assigned country codes the settings allow."""
    if not extra:
        return codes
    lists = {name: dict(entries) for name, entries in codes.lists.items()}
    for code in extra:
        lists[CodeListName.COUNTRIES].setdefault(
            code, Code(code, EXTRA_COUNTRY_DESCRIPTION, non_iso=True)
        )
    return CodeLists(lists)


DEFINITION = ServiceDefinition(
    name="permit-verify",
    title="Pangolin permit-verify",
    description=(
        "The CITES permit registry, verification of declarations, endorsement"
        " and EPIX-style exchange."
    ),
    migrations=Path(__file__).parent / "migrations",
    # verifications first: the hot path, matched (by routing and by the tracing middleware's
    # route lookup) before the other routes are tried. permits before the rest: its
    # `/jwks/{country}` must win over `/{permit_id}/...` routes.
    routers=[
        verifications_router,
        permits_router,
        partners_router,
        tokens_router,
        endorsements_router,
        audit_router,
    ],
    consumers=consumers,
    lifespan=lifespan,
)


def create_app(
    settings: PermitVerifySettings | None = None, *, telemetry: Telemetry | None = None
) -> FastAPI:
    return create_service_app(DEFINITION, settings or PermitVerifySettings(), telemetry=telemetry)
