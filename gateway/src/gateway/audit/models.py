"""The audit table: one row per request through the gateway, never updated or deleted.

Append-only is enforced by the database itself (triggers created by migration 0003), not
only by this code: an UPDATE or DELETE on `gateway_audit` aborts on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gateway.tables import GatewayTable

# A bigint in PostgreSQL (years of traffic); SQLite only autoincrements an INTEGER PRIMARY KEY.
AUDIT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class AuditEntry(GatewayTable, table=True):
    __tablename__ = "gateway_audit"
    __table_args__ = (
        # "what did this client do in this period", newest first
        sa.Index("ix_gateway_audit_client_id_at", "client_id", "at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(AUDIT_ID, primary_key=True, autoincrement=True),
    )
    at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    request_id: str = Field(max_length=200)
    client_id: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    method: str = Field(max_length=10)
    path: str = Field(sa_type=sa.Text)
    route: str = Field(max_length=255)
    upstream: str | None = Field(default=None, max_length=50)
    status: int = Field(sa_type=sa.SmallInteger)
    latency_ms: float
