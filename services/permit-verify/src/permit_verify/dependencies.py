"""What the lifespan opened for permit-verify's routers, as `Annotated` dependencies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Request

from pangolin_core.contracts.cites_codes import CodeLists
from permit_verify.permits.signing import PermitSigner

CODE_LISTS = "code_lists"
SIGNER = "permit_signer"


async def code_lists(request: Request) -> CodeLists:
    lists: CodeLists = request.app.state.runtime.extras[CODE_LISTS]
    return lists


async def permit_signer(request: Request) -> PermitSigner:
    signer: PermitSigner = request.app.state.runtime.extras[SIGNER]
    return signer


CodeListsDep = Annotated[CodeLists, Depends(code_lists)]
SignerDep = Annotated[PermitSigner, Depends(permit_signer)]

# A permit in a path: `/{permit_id:uuid}` matches ids only, so the registry's other paths
# (`/lookup`, `/verify-token`, `/jwks/...`) never read as a permit id.
PERMIT_PATH = "/{permit_id:uuid}"
PermitId = Annotated[UUID, Path(description="The permit's id in the registry")]
