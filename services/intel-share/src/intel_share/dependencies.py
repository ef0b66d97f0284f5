"""What the lifespan opened for intel-share's routers, as `Annotated` dependencies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Request

from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.db import Database, database_of

CODE_LISTS = "code_lists"


async def code_lists(request: Request) -> CodeLists:
    lists: CodeLists = request.app.state.runtime.extras[CODE_LISTS]
    return lists


CodeListsDep = Annotated[CodeLists, Depends(code_lists)]
# The engine itself, for read-only work outside the request's unit of work.
DatabaseDep = Annotated[Database, Depends(database_of)]

RECORD_PATH = "/{record_id:uuid}"
RecordId = Annotated[UUID, Path(description="The record's id (the same on every instance)")]
