"""What the lifespan opened for permit-verify's routers, as `Annotated` dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
