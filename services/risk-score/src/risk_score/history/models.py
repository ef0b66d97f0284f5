"""Stored trade history: one row per declaration line as the features need it, every
outcome recorded, and the first time each trader was seen on a permit. The in-memory
`TradeHistory` is rebuilt from these at start and brought up to date from their
`recorded_at` (what other replicas wrote)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from risk_score.tables import RiskScoreTable


class TradeHistoryLine(RiskScoreTable, table=True):
    __tablename__ = "trade_history_line"
    __table_args__ = (sa.UniqueConstraint("declaration_id", "line_no"),)

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: str = Field(max_length=64, index=True)
    line_no: int
    declared_on: date = Field(index=True)
    office: str = Field(max_length=32)
    direction: str = Field(max_length=16)
    exporter: str | None = Field(default=None, max_length=300)  # normalised name|country
    importer: str | None = Field(default=None, max_length=300)
    exporter_country: str | None = Field(default=None, max_length=2)
    importer_country: str | None = Field(default=None, max_length=2)
    origin_country: str | None = Field(default=None, max_length=2)
    export_country: str | None = Field(default=None, max_length=2)
    import_country: str | None = Field(default=None, max_length=2)
    transit: str = Field(default="", max_length=80)  # "TH,SG": the transits in order
    species: str = Field(max_length=255)  # normalised
    term: str = Field(max_length=3)
    unit: str | None = Field(default=None, max_length=3)
    # Decimal text: exact on both engines (SQLite has no exact decimal type).
    quantity: str = Field(max_length=40)
    purpose: str = Field(max_length=3)
    source: str = Field(max_length=3)
    value_amount: str | None = Field(default=None, max_length=40)
    currency: str | None = Field(default=None, max_length=3)
    # compliant / non_compliant / seizure, once an inspection outcome is known.
    outcome: str | None = Field(default=None, max_length=16)
    recorded_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


class TradeOutcome(RiskScoreTable, table=True):
    """Every outcome as it was recorded (append-only; the lines carry the latest): what
    the other replicas read to bring their in-memory history up to date."""

    __tablename__ = "trade_outcome"

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: str = Field(max_length=64)
    result: str = Field(max_length=16)
    recorded_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)


class TraderSighting(RiskScoreTable, table=True):
    """The earliest date a trader was named (on an issued permit)."""

    __tablename__ = "trader_sighting"

    trader: str = Field(primary_key=True, max_length=300)
    first_seen: date
    recorded_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
