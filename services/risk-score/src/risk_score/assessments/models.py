"""Stored assessments: the answer as given, with everything it was computed from (the
declaration, findings, facts with the features snapshot, profile versions, model version)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class Assessment(RiskScoreTable, table=True):
    __tablename__ = "assessment"

    id: str = Field(primary_key=True, max_length=36)
    # Not unique: a declaration sent again is assessed again (see assessments.service).
    declaration_id: str = Field(max_length=64, index=True)
    office: str = Field(max_length=32)
    direction: str = Field(max_length=16)
    declared_on: date
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)
    score: float
    lane: str = Field(max_length=8)
    random: bool
    targeted: bool  # the lane would be yellow or red without the random draw
    controls: list[str] = Field(sa_type=sa.JSON)
    reasons: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    profile_versions: dict[str, int] = Field(sa_type=sa.JSON)
    model_version: str | None = Field(default=None, max_length=64)
    declaration: dict[str, Any] = Field(sa_type=sa.JSON)
    findings: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    facts: dict[str, Any] = Field(sa_type=sa.JSON)
    client_id: str = Field(max_length=255)
