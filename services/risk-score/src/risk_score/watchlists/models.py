"""The watchlist read model: what each intelligence record yields now (its entries)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable, UtcDateTime


class WatchlistRecord(RiskScoreTable, table=True):
    __tablename__ = "watchlist_record"

    record_id: str = Field(primary_key=True, max_length=64)
    record_version: int
    record_type: str = Field(max_length=16)
    title: str = Field(sa_type=sa.Text)
    confidence: int
    valid_until: date | None = None
    entries: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=UtcDateTime)
