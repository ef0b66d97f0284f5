"""What the lifespan opened for permit-verify's routers, as `Annotated` dependencies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Request

from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.db import Database, database_of
from pangolin_core.messaging.rpc import RpcClient
from permit_verify.partners.client import PartnerDirectory
from permit_verify.permits.signing import PermitSigner
from permit_verify.settings import PermitVerifySettings

CODE_LISTS = "code_lists"
SIGNER = "permit_signer"
PARTNERS = "partner_directory"


async def code_lists(request: Request) -> CodeLists:
    lists: CodeLists = request.app.state.runtime.extras[CODE_LISTS]
    return lists


async def permit_signer(request: Request) -> PermitSigner:
    signer: PermitSigner = request.app.state.runtime.extras[SIGNER]
    return signer


async def partner_directory(request: Request) -> PartnerDirectory:
    directory: PartnerDirectory = request.app.state.runtime.extras[PARTNERS]
    return directory


async def rpc_client(request: Request) -> RpcClient:
    client: RpcClient = request.app.state.runtime.rpc
    return client


async def database(request: Request) -> Database:
    # async: `database_of` is a plain `def`, which FastAPI runs in its thread pool
    return database_of(request)


async def service_settings(request: Request) -> PermitVerifySettings:
    settings = request.app.state.runtime.settings
    assert isinstance(settings, PermitVerifySettings)
    return settings


CodeListsDep = Annotated[CodeLists, Depends(code_lists)]
SignerDep = Annotated[PermitSigner, Depends(permit_signer)]
PartnersDep = Annotated[PartnerDirectory, Depends(partner_directory)]
RpcDep = Annotated[RpcClient, Depends(rpc_client)]
# The engine itself, for read-only work outside the request's unit of work.
DatabaseDep = Annotated[Database, Depends(database)]
SettingsDep = Annotated[PermitVerifySettings, Depends(service_settings)]

# A permit in a path: `/{permit_id:uuid}` matches ids only, so the registry's other paths
# (`/lookup`, `/verify-token`, `/jwks/...`) never read as a permit id.
PERMIT_PATH = "/{permit_id:uuid}"
PermitId = Annotated[UUID, Path(description="The permit's id in the registry")]
