"""`/v1/intel/records`: create, search, read, change and revoke intelligence records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from intel_share.dependencies import RECORD_PATH, CodeListsDep, DatabaseDep, RecordId
from intel_share.idempotency import service as idempotency
from intel_share.idempotency.service import IdempotencyKey, IdempotentCall
from intel_share.records import service
from intel_share.records.schemas import (
    RecordIn,
    RecordOut,
    RecordPage,
    RecordPatch,
    RecordSearch,
    RevokeIn,
)
from pangolin_core.contracts.intel import RecordType
from pangolin_core.db import AuditedReadSessionDep, SessionDep
from pangolin_core.identity import Caller, requires_scope

router = APIRouter(prefix="/v1/intel/records", tags=["intel records"])

Reader = Annotated[Caller, Depends(requires_scope(service.READ_SCOPE))]
Writer = Annotated[Caller, Depends(requires_scope(service.READ_SCOPE, service.WRITE_SCOPE))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such record, or not one the caller may see"}
}
ORIGINATOR_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "`not_originator`: the caller sees it, did not make it"}
}


@router.post(
    "",
    status_code=201,
    response_model=RecordOut,
    summary="Create an intelligence record (the caller originates it)",
)
async def create_record(
    body: RecordIn,
    request: Request,
    session: SessionDep,
    caller: Writer,
    codes: CodeListsDep,
    db: DatabaseDep,
    idempotency_key: IdempotencyKey = None,
) -> RecordOut | JSONResponse:
    call = None
    if idempotency_key is not None:
        call = IdempotentCall(
            caller, idempotency_key, idempotency.fingerprint("POST", request.url.path, body)
        )
        replayed = await idempotency.replay(session=session, call=call)
        if replayed is not None:
            return replayed
    out = await service.create(session=session, request=body, caller=caller, codes=codes)
    if call is not None:
        await idempotency.remember(session=session, call=call, status_code=201, response=out)
    return out


@router.get("", summary="Search the records the caller may see, newest first")
async def search_records(
    session: AuditedReadSessionDep,
    caller: Reader,
    type: RecordType | None = None,
    species: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    entity: Annotated[str | None, Query(min_length=1, max_length=36)] = None,
    text: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    time_field: Literal["created", "updated", "event"] = "created",
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RecordPage:
    filters = RecordSearch(
        type=type,
        species=species,
        country=country,
        entity=entity,
        text=text,
        since=since,
        until=until,
        time_field=time_field,
        include_revoked=include_revoked,
    )
    return await service.search(
        session=session, caller=caller, filters=filters, limit=limit, cursor=cursor
    )


@router.get(RECORD_PATH, summary="A record", responses=NOT_FOUND)
async def get_record(
    record_id: RecordId, session: AuditedReadSessionDep, caller: Reader
) -> RecordOut:
    return await service.read(session=session, record_id=str(record_id), caller=caller)


@router.patch(
    RECORD_PATH,
    summary="Change a record: its next version (originator only)",
    responses={**NOT_FOUND, **ORIGINATOR_ONLY},
)
async def patch_record(
    record_id: RecordId, body: RecordPatch, session: SessionDep, caller: Writer, codes: CodeListsDep
) -> RecordOut:
    return await service.update(
        session=session, record_id=str(record_id), patch=body, caller=caller, codes=codes
    )


@router.post(
    RECORD_PATH + "/revoke",
    summary="Revoke a record (originator only); partners learn of it",
    responses={**NOT_FOUND, **ORIGINATOR_ONLY},
)
async def revoke_record(
    record_id: RecordId, session: SessionDep, caller: Writer, body: RevokeIn | None = None
) -> RecordOut:
    return await service.revoke(
        session=session,
        record_id=str(record_id),
        reason=body.reason if body else None,
        caller=caller,
    )
