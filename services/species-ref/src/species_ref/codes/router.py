"""`GET /v1/species/codes/{list}`: the CITES code lists, for other services and clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from pangolin_core.identity import Caller, requires_scope
from species_ref.codes.schemas import CodeListOut, CodeOut
from species_ref.codes.service import CodeListName, CodeLists

router = APIRouter(prefix="/v1/species/codes", tags=["codes"])

Reader = Annotated[Caller, Depends(requires_scope("species:read"))]


async def code_lists(request: Request) -> CodeLists:
    lists: CodeLists = request.app.state.runtime.extras["code_lists"]
    return lists


@router.get("/{name}", summary="A CITES code list")
async def get_code_list(
    name: CodeListName,
    _: Reader,
    lists: Annotated[CodeLists, Depends(code_lists)],
) -> CodeListOut:
    countries = name is CodeListName.COUNTRIES
    codes = [
        CodeOut(
            code=c.code,
            description=c.description,
            non_iso=c.non_iso if countries else None,
            former=c.former if countries else None,
            party_since=c.party_since,
        )
        for c in lists.codes(name)
    ]
    return CodeListOut(list=name.value, count=len(codes), codes=codes)
