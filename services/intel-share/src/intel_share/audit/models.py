"""The audit tables: one row per action, one link row per record it touched."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class IntelAuditEntry(IntelShareTable, table=True):
    __tablename__ = "intel_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    action: str = Field(max_length=32)  # AuditAction
    client_id: str = Field(max_length=255)
    agency: str = Field(max_length=255)
    country: str = Field(max_length=2)
    query: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    record_count: int = 0


class IntelAuditRecord(IntelShareTable, table=True):
    """A record an audited action read or changed."""

    __tablename__ = "intel_audit_record"

    audit_id: int = Field(foreign_key="intel_audit.id", primary_key=True)
    record_id: str = Field(max_length=36, primary_key=True, index=True)
