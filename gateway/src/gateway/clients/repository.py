"""SQL of the clients domain."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.clients.models import Client


async def get(session: AsyncSession, client_id: str, *, for_update: bool = False) -> Client | None:
    query = select(Client).where(Client.id == client_id)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get_by_name(session: AsyncSession, name: str) -> Client | None:
    return (await session.exec(select(Client).where(Client.name == name))).first()


def add(session: AsyncSession, client: Client) -> None:
    session.add(client)


async def page_by_name(
    session: AsyncSession, *, after_name: str | None, limit: int
) -> list[Client]:
    query = select(Client).order_by(col(Client.name)).limit(limit)
    if after_name is not None:
        query = query.where(col(Client.name) > after_name)
    return list(await session.exec(query))


async def changed_since(session: AsyncSession, since: datetime | None) -> list[Client]:
    """Every client (since None), or those changed at or after `since`."""
    query = select(Client)
    if since is not None:
        query = query.where(col(Client.updated_at) >= since)
    return list(await session.exec(query))
