"""The table of the gateway's clients: who may call, with which roles and scopes, and the
hashes of their secret and API key (never the secrets themselves)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from gateway.tables import GatewayTable


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClientStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Client(GatewayTable, table=True):
    __tablename__ = "gateway_client"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),)

    id: str = Field(primary_key=True, max_length=36)  # the public `client_id` (a UUID)
    name: str = Field(max_length=100, unique=True)
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    roles: list[str] = Field(sa_type=sa.JSON)
    scopes: list[str] = Field(sa_type=sa.JSON)  # granted by the roles, possibly narrowed
    status: str = Field(max_length=10, default=ClientStatus.ACTIVE.value)
    secret_hash: str = Field(max_length=255)  # argon2
    api_key_id: str = Field(max_length=32, unique=True, index=True)  # public part of the key
    api_key_hash: str = Field(max_length=255)  # argon2 of the key's secret part
    rate: float | None = None  # own rate limit; None: the roles' default
    burst: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    # When the secret and API key were last set: tokens issued before are refused.
    rotated_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    # Every change moves it: replicas re-read the rows changed since they last looked.
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), index=True
    )
