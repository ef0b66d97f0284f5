"""Targeting profiles as stored: one row per profile (its current version) and one immutable
row per version; an assessment names the versions that scored it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class TargetingProfile(RiskScoreTable, table=True):
    __tablename__ = "targeting_profile"

    id: str = Field(primary_key=True, max_length=36)
    current_version: int
    created_at: datetime = Field(sa_type=UtcDateTime)


class TargetingProfileVersion(RiskScoreTable, table=True):
    """A version is never changed: an edit or a status change writes the next one."""

    __tablename__ = "targeting_profile_version"

    profile_id: str = Field(foreign_key="targeting_profile.id", primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    rationale: str = Field(sa_type=sa.Text)
    instructions: str = Field(sa_type=sa.Text)
    criteria: dict[str, Any] = Field(sa_type=sa.JSON)
    points: float
    forced_lane: str | None = Field(default=None, max_length=8)
    controls: list[str] = Field(sa_type=sa.JSON)
    selection_percentage: float
    offices: list[str] = Field(sa_type=sa.JSON)
    directions: list[str] = Field(sa_type=sa.JSON)
    valid_from: date | None = None
    valid_until: date | None = None
    review_date: date | None = None
    owner: str = Field(max_length=200)
    status: str = Field(max_length=8)
    created_at: datetime = Field(sa_type=UtcDateTime)
    created_by: str = Field(max_length=255)
