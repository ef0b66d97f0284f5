"""Inspection outcomes: one per assessment."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class Outcome(RiskScoreTable, table=True):
    __tablename__ = "outcome"

    assessment_id: str = Field(foreign_key="assessment.id", primary_key=True, max_length=36)
    inspected: bool
    result: str = Field(max_length=16)
    controls_applied: list[str] = Field(sa_type=sa.JSON)
    notes: str | None = Field(default=None, sa_type=sa.Text)
    recorded_at: datetime = Field(sa_type=UtcDateTime, index=True)
    recorded_by: str = Field(max_length=255)
