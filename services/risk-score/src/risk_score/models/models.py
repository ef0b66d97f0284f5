"""Stored learned models: the estimator's bytes with their digest, its training report, and
whether it is the promoted one (the one that scores)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable


class LearnedModelRow(RiskScoreTable, table=True):
    __tablename__ = "learned_model"

    version: str = Field(primary_key=True, max_length=32)
    sequence: int = Field(unique=True)
    estimator: str = Field(max_length=32)
    feature_names: list[str] = Field(sa_type=sa.JSON)
    report: dict[str, Any] = Field(sa_type=sa.JSON)
    # joblib bytes, written only by this service's own training; loaded only when the
    # SHA-256 beside them matches (a row altered by hand is refused, never unpickled).
    payload: bytes = Field(sa_type=sa.LargeBinary)
    sha256: str = Field(max_length=64)
    promoted: bool = Field(default=False, index=True)
    trained_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
