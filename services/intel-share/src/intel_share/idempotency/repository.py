"""SQL of the idempotency records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.idempotency.models import IdempotentRequest


async def find(session: AsyncSession, *, client_id: str, key: str) -> IdempotentRequest | None:
    return await session.get(IdempotentRequest, (client_id, key))


async def add(
    session: AsyncSession,
    *,
    client_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    session.add(
        IdempotentRequest(
            client_id=client_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response,
            created_at=datetime.now(UTC),
        )
    )
    await session.flush()
