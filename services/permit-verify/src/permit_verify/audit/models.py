"""The audit trail: one row per thing a caller did to a permit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from permit_verify.tables import PermitVerifyTable


class PermitAuditEntry(PermitVerifyTable, table=True):
    __tablename__ = "permit_audit"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permit.id", max_length=36, index=True)
    action: str = Field(max_length=32)  # AuditAction: issued, endorsed, looked_up...
    client_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
