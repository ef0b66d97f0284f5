"""`GET /v1/admin/audit`: who called what, when, and what they got; newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from gateway.access import requires_gateway_scope
from gateway.audit import repository
from gateway.audit.models import AuditEntry
from gateway.audit.schemas import AuditEntryOut, AuditPage
from gateway.principal import Principal
from pangolin_core.db import SessionDep
from pangolin_core.errors import BadRequest, InvalidInput
from pangolin_core.pagination import MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/admin/audit", tags=["admin"])

Admin = Annotated[Principal, Depends(requires_gateway_scope("admin"))]

BAD_CURSOR = "The cursor is not valid: pass back the `next` of a page."


def _position(cursor: str) -> tuple[datetime, int]:
    position = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(position["at"]), int(position["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(BAD_CURSOR) from exc


def _out(entry: AuditEntry) -> AuditEntryOut:
    out = AuditEntryOut.model_validate(entry, from_attributes=True)
    out.at = repository.as_utc(out.at)
    return out


@router.get("", summary="The audit trail, newest first; cursor paginated")
async def list_audit(
    session: SessionDep,
    _: Admin,
    client_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Inclusive; ISO 8601 with an offset.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Exclusive; ISO 8601 with an offset.")
    ] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> AuditPage:
    if since is not None and until is not None and until <= since:
        raise InvalidInput(
            "`until` must be later than `since`.",
            errors=[
                {
                    "location": "query",
                    "field": "until",
                    "message": "must be later than since",
                    "type": "value_error",
                }
            ],
        )
    entries = await repository.page(
        session,
        client_id=client_id,
        since=since,
        until=until,
        status=status,
        before=_position(cursor) if cursor else None,
        limit=limit + 1,
    )
    found, more = entries[:limit], len(entries) > limit
    items = [_out(e) for e in found]
    last = items[-1] if more else None
    return AuditPage(
        items=items,
        next=encode_cursor({"at": last.at.isoformat(), "id": last.id}) if last else None,
    )
