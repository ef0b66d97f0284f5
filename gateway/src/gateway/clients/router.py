"""The client admin API (`/v1/admin/clients`, scope `admin`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from gateway.access import requires_gateway_scope
from gateway.clients import service
from gateway.clients.directory import ClientRecord
from gateway.clients.models import ClientStatus
from gateway.clients.schemas import ClientOut, ClientPage, IssuedClient, NewClient
from gateway.clients.service import IssuedCredentials
from pangolin_core.db import SessionDep
from pangolin_core.pagination import MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/v1/admin/clients",
    tags=["admin"],
    dependencies=[Depends(requires_gateway_scope("admin"))],
)


def client_out(record: ClientRecord) -> ClientOut:
    return ClientOut(
        client_id=record.id,
        name=record.name,
        country=record.country,
        roles=sorted(record.roles),
        scopes=sorted(record.scopes),
        status=record.status,
        rate=record.rate,
        burst=record.burst,
        created_at=record.created_at,
        rotated_at=record.rotated_at,
        updated_at=record.updated_at,
    )


def issued_out(issued: IssuedCredentials) -> IssuedClient:
    return IssuedClient(
        client_id=issued.client.id,
        client_secret=issued.client_secret,
        api_key=issued.api_key,
        client=client_out(issued.client),
    )


@router.post("", status_code=201, summary="Create a client; its secret and API key shown once")
async def create_client(spec: NewClient, session: SessionDep, response: Response) -> IssuedClient:
    response.headers["Cache-Control"] = "no-store"
    return issued_out(await service.create_client(session=session, spec=spec))


@router.get("", summary="Clients by name; cursor paginated")
async def list_clients(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> ClientPage:
    after = decode_cursor(cursor).get("after_name") if cursor else None
    records = await service.list_clients(
        session=session, after_name=str(after) if after is not None else None, limit=limit + 1
    )
    page, more = records[:limit], len(records) > limit
    return ClientPage(
        items=[client_out(r) for r in page],
        next=encode_cursor({"after_name": page[-1].name}) if more else None,
    )


@router.get("/{client_id}", summary="One client")
async def get_client(client_id: str, session: SessionDep) -> ClientOut:
    return client_out(await service.get_client(session=session, client_id=client_id))


@router.post(
    "/{client_id}/rotate-secret",
    summary="New secret and API key (shown once); the old ones and earlier tokens stop working",
)
async def rotate_secret(client_id: str, session: SessionDep, response: Response) -> IssuedClient:
    response.headers["Cache-Control"] = "no-store"
    return issued_out(await service.rotate_secret(session=session, client_id=client_id))


@router.post("/{client_id}/disable", summary="Refuse every credential and token of a client")
async def disable_client(client_id: str, session: SessionDep) -> ClientOut:
    record = await service.set_status(
        session=session, client_id=client_id, status=ClientStatus.DISABLED
    )
    return client_out(record)


@router.post("/{client_id}/enable", summary="Accept a disabled client again")
async def enable_client(client_id: str, session: SessionDep) -> ClientOut:
    record = await service.set_status(
        session=session, client_id=client_id, status=ClientStatus.ACTIVE
    )
    return client_out(record)
