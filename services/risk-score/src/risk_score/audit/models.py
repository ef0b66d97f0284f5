"""The audit trail: one row per change, and per read of an assessment (it shows intelligence)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class RiskAuditEntry(RiskScoreTable, table=True):
    __tablename__ = "risk_audit"

    id: int | None = Field(default=None, primary_key=True)
    # profile_version_created, outcome_recorded, assessment_read
    action: str = Field(max_length=32)
    object_type: str = Field(max_length=16)  # profile, assessment
    object_id: str = Field(max_length=36, index=True)
    client_id: str = Field(max_length=255)
    country: str = Field(max_length=2)
    at: datetime = Field(sa_type=UtcDateTime)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
