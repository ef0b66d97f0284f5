"""The proposals table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class Proposal(IntelShareTable, table=True):
    __tablename__ = "intel_proposal"

    id: str = Field(primary_key=True, max_length=36)
    record_id: str = Field(foreign_key="intel_record.id", max_length=36, index=True)
    base_version: int  # the record's version the proposal was written against
    changes: dict[str, Any] = Field(sa_type=sa.JSON)  # a `RecordPatch`, as posted
    reason: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(max_length=16)  # pending, accepted, rejected
    proposed_by_agency: str = Field(max_length=255)
    proposed_by_country: str = Field(max_length=2)
    proposed_by_client: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    decision_note: str | None = Field(default=None, sa_type=sa.Text)
    applied_version: int | None = None  # the record version an accepted proposal made
